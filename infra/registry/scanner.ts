import { gunzipSync } from 'node:zlib';
import { severityRank, type ImageScanView, type ScanEcosystem, type ScanSeverity } from '../../common/image-scan.ts';
import { matchAdvisories, type AdvisoryFeed, type InstalledPackage } from './advisories.ts';
import type { ImageDetail } from './driver.ts';

/**
 * Edgeport's local image scanner: reads the real image content (each platform's layer tarballs, applied in
 * order with OCI whiteouts), collects installed packages from the Debian dpkg status file, the Alpine apk
 * database and npm lock files, and matches them against an advisory feed. It finds what those databases
 * declare, nothing else (no binaries, no language packages besides npm lock files); zstd layers are counted
 * as unread. Harbor's scanner (Trivy) replaces it in production.
 */

export const LOCAL_SCANNER = 'edgeport-local-scanner/1';
/** Files the scanner reads; anything larger is skipped as not a package database. */
const MAX_FILE_BYTES = 32 * 2 ** 20;
const DPKG_STATUS = 'var/lib/dpkg/status';
const APK_INSTALLED = 'lib/apk/db/installed';
const wanted = (path: string): boolean => path === DPKG_STATUS || path === APK_INSTALLED || path === 'package-lock.json' || path.endsWith('/package-lock.json');

const clean = (p: string): string => p.replace(/^\.?\/+/, '').replace(/\/+$/, '');

/**
 * Applies one layer (an uncompressed tar) to `files`: regular files of interest are stored, whiteouts
 * (`.wh.<name>`) remove a path, opaque markers (`.wh..wh..opq`) clear a directory. Handles ustar prefixes,
 * GNU long names (`L`) and pax `path` records (`x`).
 */
export function applyLayer(tar: Buffer, files: Map<string, Buffer>): void {
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number): string =>
      h
        .subarray(a, a + n)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] ?? 48);
    const prefix = str(257, 6).startsWith('ustar') ? str(345, 155) : '';
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      paxPath = m?.[1];
      continue;
    }
    if (type === 'g') continue;
    const path = clean(paxPath ?? longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100)));
    longName = undefined;
    paxPath = undefined;
    const slash = path.lastIndexOf('/');
    const dir = slash >= 0 ? path.slice(0, slash) : '';
    const base = path.slice(slash + 1);
    if (base === '.wh..wh..opq') {
      for (const k of [...files.keys()]) if (dir === '' || k.startsWith(`${dir}/`)) files.delete(k);
      continue;
    }
    if (base.startsWith('.wh.')) {
      const gone = dir ? `${dir}/${base.slice(4)}` : base.slice(4);
      for (const k of [...files.keys()]) if (k === gone || k.startsWith(`${gone}/`)) files.delete(k);
      continue;
    }
    if ((type === '0' || type === '\0' || type === '7') && wanted(path) && size <= MAX_FILE_BYTES) files.set(path, Buffer.from(body));
    else if (files.has(path)) files.delete(path);
  }
}

/** Installed packages from the package databases found in the image's file system. */
export function installedPackages(files: ReadonlyMap<string, Buffer>): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  const dpkg = files.get(DPKG_STATUS);
  if (dpkg) {
    for (const para of dpkg.toString('utf8').split(/\n\s*\n/)) {
      const field = (n: string): string | undefined => new RegExp(`^${n}:\\s*(.+)$`, 'm').exec(para)?.[1]?.trim();
      const name = field('Package');
      const version = field('Version');
      const status = field('Status') ?? 'install ok installed';
      if (name && version && /\binstalled$/.test(status)) out.push({ ecosystem: 'debian', name, version });
    }
  }
  const apk = files.get(APK_INSTALLED);
  if (apk) {
    for (const rec of apk.toString('utf8').split(/\n\s*\n/)) {
      const name = /^P:(.+)$/m.exec(rec)?.[1]?.trim();
      const version = /^V:(.+)$/m.exec(rec)?.[1]?.trim();
      if (name && version) out.push({ ecosystem: 'alpine', name, version });
    }
  }
  for (const [path, data] of files) {
    if (!path.endsWith('package-lock.json')) continue;
    let lock: { packages?: Record<string, { version?: string }>; dependencies?: Record<string, unknown> };
    try {
      lock = JSON.parse(data.toString('utf8')) as typeof lock;
    } catch {
      continue;
    }
    if (lock.packages) {
      for (const [key, p] of Object.entries(lock.packages)) {
        const i = key.lastIndexOf('node_modules/');
        if (i < 0 || !p?.version) continue;
        out.push({ ecosystem: 'npm', name: key.slice(i + 'node_modules/'.length), version: p.version });
      }
    } else if (lock.dependencies) {
      const walk = (deps: Record<string, unknown>): void => {
        for (const [name, d] of Object.entries(deps)) {
          const dep = d as { version?: string; dependencies?: Record<string, unknown> };
          if (dep.version) out.push({ ecosystem: 'npm', name, version: dep.version });
          if (dep.dependencies) walk(dep.dependencies);
        }
      };
      walk(lock.dependencies);
    }
  }
  const seen = new Set<string>();
  return out.filter((p) => {
    const k = `${p.ecosystem}\u0000${p.name}\u0000${p.version}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/**
 * Scans an image: every platform's layers are read from the registry (`readBlob`), applied in order, and
 * the packages found are matched against `feed`. Findings of several platforms are merged.
 */
export async function scanImageContent(
  image: Pick<ImageDetail, 'repository' | 'digest' | 'platforms'>,
  readBlob: (repository: string, digest: string) => Promise<Buffer>,
  feed: AdvisoryFeed,
  now: () => Date = () => new Date(),
): Promise<ImageScanView> {
  const packages: InstalledPackage[] = [];
  let unreadLayers = 0;
  for (const platform of image.platforms) {
    const files = new Map<string, Buffer>();
    for (const layer of platform.layers) {
      const raw = await readBlob(image.repository, layer.digest);
      let tar: Buffer;
      if (raw[0] === 0x1f && raw[1] === 0x8b) tar = gunzipSync(raw);
      else if (raw.length >= 512 && raw.subarray(257, 262).toString('latin1') === 'ustar') tar = raw;
      else {
        unreadLayers++;
        continue;
      }
      applyLayer(tar, files);
    }
    packages.push(...installedPackages(files));
  }
  const unique = [...new Map(packages.map((p) => [`${p.ecosystem}\u0000${p.name}\u0000${p.version}`, p])).values()];
  const findings = matchAdvisories(feed, unique);
  const counts: Partial<Record<ScanSeverity, number>> = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  const perEcosystem: Partial<Record<ScanEcosystem, number>> = {};
  for (const p of unique) perEcosystem[p.ecosystem] = (perEcosystem[p.ecosystem] ?? 0) + 1;
  const severity = findings.reduce<ScanSeverity>((s, f) => (severityRank(f.severity) > severityRank(s) ? f.severity : s), 'None');
  return {
    digest: image.digest,
    repository: image.repository,
    scannedAt: now().toISOString(),
    scanner: LOCAL_SCANNER,
    feed: { name: feed.name, version: feed.version },
    packages: perEcosystem,
    platforms: image.platforms.map((p) => ({ architecture: p.architecture, digest: p.digest })),
    findings,
    counts,
    severity,
    unreadLayers,
  };
}
