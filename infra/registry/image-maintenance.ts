import { repositoryOwner } from '../../common/images.ts';
import type { ImageScanView } from '../../common/image-scan.ts';
import type { Store } from '../../store/index.ts';
import type { AdvisoryFeed } from './advisories.ts';
import { isCosignArtifactTag, RegistryNotFound, type ImageDetail } from './driver.ts';
import type { AnyRegistryRuntime } from './runtime.ts';
import { scanImageContent } from './scanner.ts';

/**
 * Whole-registry work: the rescan of every tagged image (a scheduled job, worker/image-jobs.ts; idempotent:
 * it stores the latest scan per digest) and the byte count behind image-storage metering, which runs as
 * activities of the metering workflow (activities/image-storage.ts) so its ledger lines derive from history.
 */

type Runtime = Pick<AnyRegistryRuntime, 'driver'> & { feed: AdvisoryFeed | null };

/** Every tagged image of the registry (cosign signature tags left out), one per digest, with its repository. */
async function* taggedImages(rt: Runtime, repositories?: readonly string[]): AsyncGenerator<ImageDetail> {
  const seen = new Set<string>();
  for (const repository of repositories ?? (await rt.driver.listRepositories())) {
    for (const tag of await rt.driver.listTags(repository)) {
      if (isCosignArtifactTag(tag)) continue;
      let image: ImageDetail;
      try {
        image = await rt.driver.getImage(repository, tag);
      } catch (err) {
        if (err instanceof RegistryNotFound) continue; // deleted meanwhile
        throw err;
      }
      const key = `${repository}@${image.digest}`;
      if (seen.has(key)) continue;
      seen.add(key);
      yield image;
    }
  }
}

/** Scans every tagged image again against the current feed (one scan per digest) and stores the results. */
export async function rescanRegistry(rt: Runtime, store: Pick<Store, 'imageScans'>): Promise<{ scanned: number; failed: number }> {
  if (!rt.feed) return { scanned: 0, failed: 0 };
  const done = new Set<string>();
  let scanned = 0;
  let failed = 0;
  for await (const image of taggedImages(rt)) {
    if (done.has(image.digest)) continue;
    done.add(image.digest);
    try {
      const scan: ImageScanView = await scanImageContent(image, (repo, digest) => rt.driver.readBlob(repo, digest), rt.feed);
      await store.imageScans.save(scan);
      scanned++;
    } catch {
      failed++;
    }
  }
  return { scanned, failed };
}

/** The VDCs owning private (`vdc-<id>/`) or staging (`staging-<id>/`) repositories, sorted; one catalog read. */
export async function vdcsWithImages(rt: Runtime): Promise<string[]> {
  const ids = new Set<string>();
  for (const r of await rt.driver.listRepositories()) {
    const o = repositoryOwner(r);
    if ('vdcId' in o && (o.visibility === 'private' || o.visibility === 'staging')) ids.add(o.vdcId);
  }
  return [...ids].sort();
}

/**
 * Bytes each VDC (only `vdcId`, when given) holds in its private (`vdc-<id>/`) and staging (`staging-<id>/`)
 * repositories: every blob (config and layers) counted once per VDC, however many tags and repositories share it.
 */
export async function vdcImageBytes(rt: Runtime, vdcId?: string): Promise<Map<string, number>> {
  const blobs = new Map<string, Map<string, number>>();
  const repositories = (await rt.driver.listRepositories()).filter((r) => {
    const o = repositoryOwner(r);
    return (o.visibility === 'private' || o.visibility === 'staging') && (vdcId === undefined || o.vdcId === vdcId);
  });
  for await (const image of taggedImages(rt, repositories)) {
    const owner = repositoryOwner(image.repository);
    if (!('vdcId' in owner)) continue;
    const mine = blobs.get(owner.vdcId) ?? new Map<string, number>();
    blobs.set(owner.vdcId, mine);
    for (const p of image.platforms) {
      let layers = 0;
      for (const l of p.layers) {
        mine.set(l.digest, l.size);
        layers += l.size;
      }
      // The platform's config blob: what its size holds beyond the layers.
      mine.set(`config:${p.digest}`, Math.max(0, p.size - layers));
    }
  }
  return new Map([...blobs].map(([vdc, m]) => [vdc, [...m.values()].reduce((a, b) => a + b, 0)]));
}
