import { ApplicationFailure } from '@temporalio/common';
import type { ImageStorageSample } from '../common/image-storage-metering.ts';
import { IMAGE_ERRORS, type ImageActivityDeps } from './image-publish.ts';
import { vdcImageBytes, vdcsWithImages } from '../infra/registry/image-maintenance.ts';

const GIB = 2 ** 30;

/**
 * Activities of the image-storage metering workflow (workflows/image-storage-metering.ts). Read-only
 * against the registry and the VDC records; the billable fact is `measureVdcImageStorage`'s result, which
 * the ledger derives from history (activities/ledger/images.ts). Transient registry errors are plain errors
 * (retried); a worker without a registry fails non-retryably (`RegistryNotConfigured`).
 */
export function createImageStorageActivities(deps: Pick<ImageActivityDeps, 'store' | 'registry'>) {
  const registry = () => {
    if (!deps.registry)
      throw ApplicationFailure.nonRetryable('the worker has no image registry configured (EDGEPORT_REGISTRY_URL)', IMAGE_ERRORS.notConfigured);
    return deps.registry;
  };
  return {
    /** The VDCs owning private or staging repositories (one catalog read), sorted. */
    async imageStorageVdcs(): Promise<string[]> {
      return vdcsWithImages(registry());
    },

    /**
     * Measures what one VDC holds now (its `vdc-`/`staging-` blobs, each counted once), as the sample billed
     * over [start, end). Null when the VDC has no record (a repository left by a deleted VDC) or no bytes.
     */
    async measureVdcImageStorage(args: { vdcId: string; start: string; end: string }): Promise<ImageStorageSample | null> {
      const vdc = await deps.store.vdcs.get(args.vdcId);
      if (!vdc) return null;
      const bytes = (await vdcImageBytes(registry(), args.vdcId)).get(args.vdcId) ?? 0;
      if (bytes <= 0) return null;
      return {
        vdcId: args.vdcId,
        domainId: vdc.domainId,
        pool: vdc.pool ?? '',
        bytes,
        imageStorageGi: Math.round((bytes / GIB) * 1e6) / 1e6,
        start: args.start,
        end: args.end,
      };
    },
  };
}
export type ImageStorageActivities = ReturnType<typeof createImageStorageActivities>;
