/**
 * Image vulnerability scans as Edgeport stores and shows them (local scanner or Harbor's report), and the
 * gate deploy and publish tickets apply. Pure: no I/O, so policies, workflows and the API can all use it.
 */
export const SCAN_SEVERITIES = ['None', 'Unknown', 'Low', 'Medium', 'High', 'Critical'] as const;
export type ScanSeverity = (typeof SCAN_SEVERITIES)[number];
export const severityRank = (s: ScanSeverity): number => SCAN_SEVERITIES.indexOf(s);

/** Package ecosystems the local scanner reads from image layers. */
export const SCAN_ECOSYSTEMS = ['debian', 'alpine', 'npm'] as const;
export type ScanEcosystem = (typeof SCAN_ECOSYSTEMS)[number];

export interface ScanFinding {
  id: string;
  /** `unknown`: a finding of Harbor's scanner, whose report does not name the package ecosystem. */
  ecosystem: ScanEcosystem | 'unknown';
  package: string;
  version: string;
  fixedVersion?: string;
  severity: ScanSeverity;
  title?: string;
}

/** One stored scan of an image (keyed by the digest the tag pointed to: content identity, shared by copies). */
export interface ImageScanView {
  digest: string;
  /** Repository the image was read from when scanned. */
  repository: string;
  scannedAt: string;
  scanner: string;
  /** The advisory feed's name and version the packages were matched against. */
  feed: { name: string; version: string };
  /** Installed packages found per ecosystem. */
  packages: Partial<Record<ScanEcosystem, number>>;
  platforms: { architecture: string; digest: string }[];
  findings: ScanFinding[];
  counts: Partial<Record<ScanSeverity, number>>;
  /** Highest severity found (`None` when clean). */
  severity: ScanSeverity;
  /** Layers the scanner could not read (e.g. zstd); their packages are not covered. */
  unreadLayers: number;
}

/** Findings at or above `threshold`, highest first. */
export function findingsAtOrAbove(scan: Pick<ImageScanView, 'findings'>, threshold: ScanSeverity): ScanFinding[] {
  return scan.findings
    .filter((f) => severityRank(f.severity) >= severityRank(threshold))
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
}

/** Publish tickets: a High or Critical finding blocks promotion unless an operations admin overrides. */
export const PUBLISH_BLOCKING_SEVERITY: ScanSeverity = 'High';

export type ScanGateDecision = { allowed: true } | { allowed: false; reason: string; findings: ScanFinding[] };

/**
 * Whether an image may be deployed (or promoted): refused when it was never scanned, or when its last scan has a
 * finding at or above `threshold`. The reason names the findings (ids and packages), never anything secret.
 */
export function scanGate(scan: ImageScanView | null, threshold: ScanSeverity): ScanGateDecision {
  if (!scan) return { allowed: false, reason: 'the image has no scan result; scan it first', findings: [] };
  const blocking = findingsAtOrAbove(scan, threshold);
  if (blocking.length === 0) return { allowed: true };
  const list = blocking.slice(0, 10).map((f) => `${f.id} ${f.severity} ${f.package} ${f.version}${f.fixedVersion ? ` (fixed in ${f.fixedVersion})` : ''}`);
  const more = blocking.length > 10 ? `, and ${blocking.length - 10} more` : '';
  return {
    allowed: false,
    reason: `last scan (${scan.scannedAt}) found ${blocking.length} finding(s) at or above ${threshold}: ${list.join('; ')}${more}`,
    findings: blocking,
  };
}
