import { repositoryOwner } from '../../common/images.ts';
import type { ImageScanView } from '../../common/image-scan.ts';
import type { Store } from '../../store/index.ts';
import type { LedgerLineDoc } from '../../store/models.ts';
import type { AdvisoryFeed } from './advisories.ts';
import { isCosignArtifactTag, RegistryNotFound, type ImageDetail } from './driver.ts';
import type { AnyRegistryRuntime } from './runtime.ts';
import { scanImageContent } from './scanner.ts';

/**
 * Whole-registry jobs the worker runs on a schedule (worker/image-jobs.ts): the rescan of every tagged image
 * and the image-storage metering sample. Both are idempotent: a rescan stores the latest scan per digest, and a
 * metering sample is one ledger line per VDC and interval (provenance key `image-storage/<vdc>/<interval start>`).
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

const GIB = 2 ** 30;

/**
 * Bytes each VDC holds in its private (`vdc-<id>/`) and staging (`staging-<id>/`) repositories: every blob
 * (config and layers) counted once per VDC, however many tags and repositories share it.
 */
export async function vdcImageBytes(rt: Runtime): Promise<Map<string, number>> {
  const blobs = new Map<string, Map<string, number>>();
  const repositories = (await rt.driver.listRepositories()).filter((r) => {
    const o = repositoryOwner(r);
    return o.visibility === 'private' || o.visibility === 'staging';
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

/** Provenance key of one VDC's image-storage sample for the interval starting at `start`. */
export const imageStorageLineId = (vdcId: string, start: Date): string => `image-storage/${vdcId}/${start.toISOString()}`;

/**
 * One metering sample: for every VDC with private image bytes, a ledger line `image.storage` holding its GiB
 * (`imageStorageGi`, 6 decimals) over the interval of `intervalMs` that contains `now` (so a report bills
 * GiB × hours; the price book prices `imageStorage`). Written once per VDC and interval: a second sample in
 * the same interval (a retry, a second worker) changes nothing.
 */
export async function meterImageStorage(rt: Runtime, store: Pick<Store, 'vdcs' | 'ledger'>, now: Date, intervalMs: number): Promise<Omit<LedgerLineDoc, 'createdAt'>[]> {
  const start = new Date(Math.floor(now.getTime() / intervalMs) * intervalMs);
  const end = new Date(start.getTime() + intervalMs);
  const bytes = await vdcImageBytes(rt);
  const lines: Omit<LedgerLineDoc, 'createdAt'>[] = [];
  for (const [vdcId, b] of [...bytes].sort((x, y) => x[0].localeCompare(y[0]))) {
    const vdc = await store.vdcs.get(vdcId);
    if (!vdc || b <= 0) continue;
    const line: Omit<LedgerLineDoc, 'createdAt'> = {
      _id: imageStorageLineId(vdcId, start),
      workflowId: `image-storage/${vdcId}`,
      runId: start.toISOString(),
      eventId: 0,
      fact: 'image.storage',
      vdcId,
      domainId: vdc.domainId,
      pool: vdc.pool ?? '',
      subject: `${b} bytes`,
      quantities: { imageStorageGi: Math.round((b / GIB) * 1e6) / 1e6 },
      units: { imageStorageGi: 'GiB' },
      start,
      end,
    };
    await store.ledger.upsert(line);
    lines.push(line);
  }
  return lines;
}
