import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SCAN_ECOSYSTEMS, SCAN_SEVERITIES, type ScanEcosystem, type ScanFinding } from '../../common/image-scan.ts';

/**
 * The advisory feed the local scanner matches installed packages against: a JSON file named by
 * `EDGEPORT_ADVISORY_FEED` (no scanner database is reachable here; Harbor's Trivy does this in production).
 * An advisory affects versions `>= introduced` (when given) and `< fixed` (when given), or exactly those listed.
 */
const AdvisorySchema = z.strictObject({
  id: z.string().min(1).max(100),
  ecosystem: z.enum(SCAN_ECOSYSTEMS),
  package: z.string().min(1).max(214),
  introduced: z.string().min(1).optional(),
  fixed: z.string().min(1).optional(),
  versions: z.array(z.string().min(1)).optional(),
  severity: z.enum(SCAN_SEVERITIES),
  title: z.string().max(500).optional(),
});
export const AdvisoryFeedSchema = z.strictObject({ name: z.string().min(1), version: z.string().min(1), advisories: z.array(AdvisorySchema) });
export type AdvisoryFeed = z.infer<typeof AdvisoryFeedSchema>;

/** Reads and validates a feed file. @throws when missing or malformed (with the zod issue). */
export function loadAdvisoryFeed(file: string): AdvisoryFeed {
  return AdvisoryFeedSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
/** dpkg's character order: `~` before everything (even the end), letters before other characters. */
const order = (c: string | undefined): number =>
  c === undefined || isDigit(c) ? 0 : c === '~' ? -1 : /[A-Za-z]/.test(c) ? c.charCodeAt(0) : c.charCodeAt(0) + 256;

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Debian version order (`epoch:upstream-revision`, dpkg's algorithm). Alpine `1.2.3-r4` is compared the same way (an approximation: apk's `_rc`/`_p` suffix order is not modelled). */
export function compareDebian(a: string, b: string): number {
  const split = (v: string): [number, string, string] => {
    const c = v.indexOf(':');
    const epoch = c > 0 && /^\d+$/.test(v.slice(0, c)) ? Number(v.slice(0, c)) : 0;
    const rest = c > 0 ? v.slice(c + 1) : v;
    const d = rest.lastIndexOf('-');
    return d > 0 ? [epoch, rest.slice(0, d), rest.slice(d + 1)] : [epoch, rest, ''];
  };
  const [ea, ua, ra] = split(a);
  const [eb, ub, rb] = split(b);
  return Math.sign(ea - eb || verrevcmp(ua, ub) || verrevcmp(ra, rb));
}

/** Semantic version order for npm (`1.2.3-beta.1` < `1.2.3`); build metadata ignored. */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string): { nums: number[]; pre: string[] } => {
    const [core = '', pre] = v.replace(/^v/, '').split('+')[0]!.split(/-(.*)/s);
    return { nums: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre: pre ? pre.split('.') : [] };
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let k = 0; k < 3; k++) {
    const d = (pa.nums[k] ?? 0) - (pb.nums[k] ?? 0);
    if (d) return Math.sign(d);
  }
  if (pa.pre.length === 0 || pb.pre.length === 0) return Math.sign(pb.pre.length - pa.pre.length);
  for (let k = 0; k < Math.max(pa.pre.length, pb.pre.length); k++) {
    const x = pa.pre[k];
    const y = pb.pre[k];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export const compareVersions = (ecosystem: ScanEcosystem, a: string, b: string): number => (ecosystem === 'npm' ? compareSemver(a, b) : compareDebian(a, b));

export interface InstalledPackage {
  ecosystem: ScanEcosystem;
  name: string;
  version: string;
}

/** The advisories of `feed` affecting each installed package. */
export function matchAdvisories(feed: AdvisoryFeed, packages: readonly InstalledPackage[]): ScanFinding[] {
  const byKey = new Map<string, AdvisoryFeed['advisories']>();
  for (const a of feed.advisories) {
    const k = `${a.ecosystem}\u0000${a.package}`;
    byKey.set(k, [...(byKey.get(k) ?? []), a]);
  }
  const out: ScanFinding[] = [];
  const seen = new Set<string>();
  for (const p of packages) {
    for (const a of byKey.get(`${p.ecosystem}\u0000${p.name}`) ?? []) {
      const cmp = (x: string, y: string): number => compareVersions(p.ecosystem, x, y);
      const affected = a.versions
        ? a.versions.includes(p.version)
        : (a.introduced === undefined || cmp(p.version, a.introduced) >= 0) && (a.fixed === undefined || cmp(p.version, a.fixed) < 0);
      const key = `${a.id}\u0000${p.ecosystem}\u0000${p.name}\u0000${p.version}`;
      if (!affected || seen.has(key)) continue;
      seen.add(key);
      out.push({
        id: a.id,
        ecosystem: p.ecosystem,
        package: p.name,
        version: p.version,
        ...(a.fixed ? { fixedVersion: a.fixed } : {}),
        severity: a.severity,
        ...(a.title ? { title: a.title } : {}),
      });
    }
  }
  return out;
}
