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
