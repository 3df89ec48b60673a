import { SCAN_SEVERITIES, type ScanSeverity } from '@common/image-scan';

/** Bytes as B / KiB / MiB / GiB with one decimal. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Element Plus tag type of a scan's highest severity. */
export function scanTagType(severity: string): 'success' | 'info' | 'warning' | 'danger' {
  if (severity === 'None') return 'success';
  if (severity === 'High' || severity === 'Critical') return 'danger';
  if (severity === 'Medium' || severity === 'Low') return 'warning';
  return 'info';
}

const KNOWN_SEVERITIES: ReadonlySet<string> = new Set(SCAN_SEVERITIES);

/**
 * A scan's highest severity in the user's language (`images.severity.*`). A severity the portal does not know
 * (a newer scanner's) is shown as the server sent it rather than as a missing-key path.
 */
export function severityLabel(t: (key: string) => string, severity: string): string {
  return KNOWN_SEVERITIES.has(severity) ? t(`images.severity.${severity as ScanSeverity}`) : severity;
}
