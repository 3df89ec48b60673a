import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkImageScan, imageSupportsArch, parseImageRef } from './image-checks.ts';
import { compareDebian, compareSemver, loadAdvisoryFeed, matchAdvisories } from './advisories.ts';
import { RegistryNotFound, type ImageDetail } from './driver.ts';
import { applyLayer, installedPackages, scanImageContent } from './scanner.ts';
import { tarOf } from '../../stack/testing/oci-image.ts';
import { scanGate, type ImageScanView } from '../../common/image-scan.ts';

const feed = loadAdvisoryFeed(new URL('../../stack/advisories/demo-feed.json', import.meta.url).pathname);

describe('version order', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1:1.2.13.dfsg-1', '1.2.13.dfsg-1', 1],
    ['3.0.11-1~deb12u2', '3.0.15-1~deb12u1', -1],
    ['1.0~rc1', '1.0', -1],
    ['1.0a', '1.0', 1],
    ['1.0-1', '1.0-1+b1', -1],
    ['1.36.1-r5', '1.36.1-r7', -1],
    ['2023c-5', '2024a-0+deb12u1', -1],
  ])('debian %s vs %s → %i', (a, b, want) => expect(compareDebian(a, b)).toBe(want));

  it.each([
    ['4.17.20', '4.17.21', -1],
    ['4.17.21', '4.17.21', 0],
    ['1.2.3-beta.1', '1.2.3', -1],
    ['1.2.3-beta.2', '1.2.3-beta.10', -1],
    ['10.0.0', '9.9.9', 1],
  ])('semver %s vs %s → %i', (a, b, want) => expect(compareSemver(a, b)).toBe(want));
});

describe('layers and package databases', () => {
  it('applies layers in order with whiteouts and opaque directories', () => {
    const files = new Map<string, Buffer>();
    applyLayer(tarOf({ 'var/lib/dpkg/status': 'Package: a\nVersion: 1\n', 'srv/x/package-lock.json': '{}', 'srv/y/package-lock.json': '{}' }), files);
    applyLayer(tarOf({ 'srv/x/.wh.package-lock.json': '', 'srv/.wh..wh..opq': '' }), files);
    expect([...files.keys()]).toEqual(['var/lib/dpkg/status']);
    applyLayer(tarOf({ 'var/lib/dpkg/.wh.status': '' }), files);
    expect(files.size).toBe(0);
  });

  it('reads dpkg (installed only), apk and npm lock files (v1 and v3)', () => {
    const files = new Map<string, Buffer>([
      [
        'var/lib/dpkg/status',
        Buffer.from('Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n'),
      ],
      ['lib/apk/db/installed', Buffer.from('C:Q1abc\nP:busybox\nV:1.36.1-r5\n\nP:musl\nV:1.2.4-r2\n')],
      [
        'app/package-lock.json',
        Buffer.from(JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/a/node_modules/lodash': { version: '4.17.20' } } })),
      ],
      [
        'old/package-lock.json',
        Buffer.from(JSON.stringify({ lockfileVersion: 1, dependencies: { minimist: { version: '1.2.5', dependencies: { x: { version: '0.1.0' } } } } })),
      ],
    ]);
    const pkgs = installedPackages(files);
    expect(pkgs).toEqual([
      { ecosystem: 'debian', name: 'openssl', version: '3.0.11-1' },
      { ecosystem: 'alpine', name: 'busybox', version: '1.36.1-r5' },
      { ecosystem: 'alpine', name: 'musl', version: '1.2.4-r2' },
      { ecosystem: 'npm', name: 'lodash', version: '4.17.20' },
      { ecosystem: 'npm', name: 'minimist', version: '1.2.5' },
      { ecosystem: 'npm', name: 'x', version: '0.1.0' },
    ]);
    expect(
      matchAdvisories(feed, pkgs)
        .map((f) => `${f.id}:${f.package}`)
        .sort(),
    ).toEqual(['DEMO-2026-0001:openssl', 'DEMO-2026-0004:busybox', 'DEMO-2026-0005:musl', 'DEMO-2026-0006:lodash', 'DEMO-2026-0007:minimist']);
  });

  it('scans an image from its layer blobs (gzip and plain tar; unknown compression counted as unread)', async () => {
    const layerA = gzipSync(tarOf({ 'lib/apk/db/installed': 'P:musl\nV:1.2.4-r2\n' }));
    const layerB = tarOf({ 'app/package-lock.json': JSON.stringify({ packages: { 'node_modules/lodash': { version: '4.17.21' } } }) });
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]);
    const blobs: Record<string, Buffer> = { 'sha256:a': layerA, 'sha256:b': layerB, 'sha256:z': zstd };
    const image = {
      repository: 'vdc-x/app',
      digest: 'sha256:top',
      platforms: [
        {
          os: 'linux',
          architecture: 'arm64',
          digest: 'sha256:p',
          size: 1,
          layers: ['sha256:a', 'sha256:b', 'sha256:z'].map((digest) => ({ digest, size: 1, mediaType: 'x' })),
        },
      ],
    };
    const scan = await scanImageContent(
      image,
      async (_r, d) => blobs[d]!,
      feed,
      () => new Date('2026-11-25T00:00:00Z'),
    );
    expect(scan).toMatchObject({
      digest: 'sha256:top',
      severity: 'High',
      counts: { High: 1 },
      packages: { alpine: 1, npm: 1 },
      unreadLayers: 1,
      scannedAt: '2026-11-25T00:00:00.000Z',
    });
    expect(scanGate(scan, 'High')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/DEMO-2026-0005 High musl 1\.2\.4-r2 \(fixed in 1\.2\.4-r3\)/),
    });
    expect(scanGate(scan, 'Critical')).toEqual({ allowed: true });
    expect(scanGate(null, 'Critical')).toMatchObject({ allowed: false, reason: expect.stringMatching(/no scan/) });
  });
});

describe('preflight checks on image references', () => {
  const image: ImageDetail = {
    repository: 'vdc-x/app',
    reference: 'v1',
    digest: 'sha256:top',
    mediaType: 'application/vnd.oci.image.index.v1+json',
    multiArch: true,
    size: 2,
    platforms: ['amd64', 'arm64'].map((architecture) => ({ os: 'linux', architecture, digest: `sha256:${architecture}`, size: 1, layers: [] })),
    pushedAt: null,
    tags: ['v1'],
  };
  const driver = {
    getImage: async (repository: string, reference: string) => {
      if (repository !== 'vdc-x/app' || (reference !== 'v1' && reference !== 'sha256:top')) throw new RegistryNotFound('nope');
      return image;
    },
  };

  it.each([
    ['localhost:5000/vdc-x/app:v1', { repository: 'vdc-x/app', reference: 'v1' }],
    ['registry.example.com/public/nginx@sha256:abc', { repository: 'public/nginx', reference: 'sha256:abc' }],
    ['vdc-x/app', { repository: 'vdc-x/app', reference: 'latest' }],
    ['127.0.0.1:30000/staging-x/a/b:1.0', { repository: 'staging-x/a/b', reference: '1.0' }],
  ])('parses %s', (ref, want) => expect(parseImageRef(ref)).toEqual(want));

  it('imageSupportsArch checks every platform of an index', async () => {
    expect(await imageSupportsArch(driver, 'localhost:1/vdc-x/app:v1', 'arm64')).toBe(true);
    expect(await imageSupportsArch(driver, 'vdc-x/app:v1', 'mips64le')).toBe(false);
    await expect(imageSupportsArch(driver, 'vdc-x/app:v2', 'amd64')).rejects.toBeInstanceOf(RegistryNotFound);
  });

  it('checkImageScan: refuses missing images and missing scans, passes a clean last scan', async () => {
    const clean: ImageScanView = {
      digest: 'sha256:top',
      repository: 'vdc-x/app',
      scannedAt: '2026-11-25T00:00:00.000Z',
      scanner: 's',
      feed: { name: 'f', version: '1' },
      packages: {},
      platforms: [],
      findings: [],
      counts: {},
      severity: 'None',
      unreadLayers: 0,
    };
    expect(await checkImageScan({ driver, scans: { latest: async () => clean } }, 'vdc-x/app:v1', 'High')).toEqual({ allowed: true, digest: 'sha256:top' });
    expect(await checkImageScan({ driver, scans: { latest: async () => null } }, 'vdc-x/app:v1', 'High')).toMatchObject({
      allowed: false,
      digest: 'sha256:top',
    });
    expect(await checkImageScan({ driver, scans: { latest: async () => clean } }, 'vdc-x/app:nope', 'High')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/does not exist/),
      digest: null,
    });
  });
});
