import { severityRank, type ImageScanView, type ScanFinding } from '../../common/image-scan.ts';
import type { ImageDetail } from './driver.ts';
import type { HarborDriver } from './harbor-driver.ts';

/**
 * An image's scan as Harbor's own scanner reports it (`scan_overview` and the vulnerability report of the digest),
 * in Edgeport's scan shape (findings carry ecosystem `unknown`: Harbor's report names none). With `trigger`, an
 * image Harbor has not scanned gets a scan triggered and is read once more. A scan missing, still running or
 * failed is returned as `error` (the publish preflight fails the ticket with it), never as a clean result.
 * Harbor's HTTP failures are thrown as the driver maps them.
 */
export async function harborScan(
  driver: Pick<HarborDriver, 'scanSummary' | 'triggerScan' | 'scanFindings'>,
  repository: string,
  image: Pick<ImageDetail, 'digest' | 'platforms'>,
  opts: { trigger: boolean },
): Promise<{ scan: ImageScanView } | { error: string }> {
  let summary = await driver.scanSummary(repository, image.digest);
  if (summary.status === 'NotScanned') {
    if (!opts.trigger) return { error: `Harbor has not scanned ${repository}@${image.digest}` };
    await driver.triggerScan(repository, image.digest);
    summary = await driver.scanSummary(repository, image.digest);
  }
  if (summary.status === 'Error')
    return { error: `Harbor could not scan ${repository}@${image.digest}; scan it again in Harbor, then submit the ticket again` };
  if (summary.status !== 'Success')
    return { error: `Harbor has not finished scanning ${repository}@${image.digest} (${summary.status}); submit the ticket again once the scan is done` };
  const findings: ScanFinding[] = (await driver.scanFindings(repository, image.digest)).map((f) => ({
    id: f.id,
    ecosystem: 'unknown',
    package: f.package,
    version: f.version,
    ...(f.fixVersion ? { fixedVersion: f.fixVersion } : {}),
    severity: f.severity,
  }));
  const severity = findings.reduce<ImageScanView['severity']>(
    (max, f) => (severityRank(f.severity) > severityRank(max) ? f.severity : max),
    summary.total === 0 ? 'None' : summary.severity,
  );
  return {
    scan: {
      digest: image.digest,
      repository,
      scannedAt: summary.finishedAt ?? new Date().toISOString(),
      scanner: `harbor${summary.scanner ? ` (${summary.scanner})` : ''}`,
      feed: { name: 'harbor', version: summary.scanner ?? 'unknown' },
      packages: {},
      platforms: image.platforms.map((p) => ({ architecture: p.architecture, digest: p.digest })),
      findings,
      counts: summary.counts,
      severity,
      unreadLayers: 0,
    },
  };
}
