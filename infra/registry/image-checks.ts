import { scanGate, type ScanGateDecision, type ScanSeverity } from '../../common/image-scan.ts';
import type { ImageScanStore } from '../../store/image-scans.ts';
import { RegistryNotFound, type RegistryDriver } from './driver.ts';

/**
 * Checks other tickets' preflights can make against an image reference (`[host/]namespace/name[:tag|@digest]`):
 * whether it has a platform for a node pool's architecture, and whether its last scan lets it through.
 * Both resolve the reference in the registry (a tag may move; the digest decides).
 */

export interface ImageRef {
  repository: string;
  reference: string;
}

/** Parses an image reference; a first component with `.` or `:` or `localhost` is the registry host and dropped. */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  const first = rest.split('/')[0] ?? '';
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) rest = rest.slice(first.length + 1);
  const at = rest.indexOf('@');
  if (at > 0) return { repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { repository: rest.slice(0, colon), reference: rest.slice(colon + 1) };
  return { repository: rest, reference: 'latest' };
}

/**
 * Whether the image has a platform for `arch` (`kubernetes.io/arch` values: amd64, arm64, …); a multi-arch index
 * is checked per platform. For deploy preflight: a pool of `arch` nodes cannot run an image without it.
 * @throws RegistryNotFound when the image does not exist.
 */
export async function imageSupportsArch(driver: Pick<RegistryDriver, 'getImage'>, ref: string, arch: string): Promise<boolean> {
  const { repository, reference } = parseImageRef(ref);
  const image = await driver.getImage(repository, reference);
  return image.platforms.some((p) => p.architecture === arch);
}

/**
 * The deploy gate: refuses an image whose last scan has a finding at or above `threshold`, or that was never
 * scanned, or that does not exist. Pure decision over the stored scan of the digest the reference resolves to
 * (see `scanGate` in `common/image-scan.ts`).
 */
export async function checkImageScan(
  deps: { driver: Pick<RegistryDriver, 'getImage'>; scans: Pick<ImageScanStore, 'latest'> },
  ref: string,
  threshold: ScanSeverity,
): Promise<ScanGateDecision & { digest: string | null }> {
  const { repository, reference } = parseImageRef(ref);
  let digest: string;
  try {
    digest = (await deps.driver.getImage(repository, reference)).digest;
  } catch (err) {
    if (err instanceof RegistryNotFound) return { allowed: false, reason: `image ${repository}:${reference} does not exist`, findings: [], digest: null };
    throw err;
  }
  return { ...scanGate(await deps.scans.latest(digest), threshold), digest };
}
