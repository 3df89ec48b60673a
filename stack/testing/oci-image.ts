import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Small real OCI images built in memory for registry tests: gzip'd tar layers holding the given files, a config
 * per architecture and an index when there are several. They can be written as an OCI layout (for skopeo) or
 * pushed blob by blob through a driver.
 */

export interface BuiltBlob {
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

export interface BuiltImage {
  blobs: BuiltBlob[];
  /** Platform manifests (one per architecture). */
  manifests: BuiltBlob[];
  /** What the tag points to: the single manifest, or the index. */
  top: BuiltBlob;
}

/** One ustar file entry (name ≤ 100 bytes). */
function tarEntry(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number): void => void header.write(s.slice(0, len), off, 'ascii');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  put('00000000000\0', 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(body);
  return Buffer.concat([header, body]);
}

export function tarOf(files: Record<string, string | Buffer>): Buffer {
  return Buffer.concat([...Object.entries(files).map(([n, c]) => tarEntry(n, Buffer.isBuffer(c) ? c : Buffer.from(c))), Buffer.alloc(1024)]);
}

const blob = (mediaType: string, data: Buffer): BuiltBlob => ({
  mediaType,
  digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
  size: data.length,
  data,
});

/** An image with one gzip'd layer per entry of `layers` (files by path), for each architecture. */
export function buildImage(opts: { archs?: string[]; layers?: Record<string, string | Buffer>[] } = {}): BuiltImage {
  const archs = opts.archs ?? ['amd64'];
  const blobs: BuiltBlob[] = [];
  const manifests = archs.map((architecture) => {
    const layerFiles = opts.layers ?? [{ 'hello.txt': `hello from ${architecture} ${randomBytes(8).toString('hex')}\n` }];
    const tars = layerFiles.map((files) => tarOf({ ...files, '.edgeport-nonce': `${architecture} ${randomBytes(8).toString('hex')}` }));
    const layers = tars.map((t) => blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(t)));
    const config = blob(
      'application/vnd.oci.image.config.v1+json',
      Buffer.from(
        JSON.stringify({
          architecture,
          os: 'linux',
          created: '2026-01-02T03:04:05Z',
          config: {},
          rootfs: { type: 'layers', diff_ids: tars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`) },
        }),
      ),
    );
    blobs.push(config, ...layers);
    const m = blob(
      'application/vnd.oci.image.manifest.v1+json',
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: strip(config), layers: layers.map(strip) }),
      ),
    );
    return { ...m, platform: { architecture, os: 'linux' } };
  });
  const top =
    manifests.length === 1
      ? manifests[0]!
      : blob(
          'application/vnd.oci.image.index.v1+json',
          Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.oci.image.index.v1+json',
              manifests: manifests.map((m) => ({ ...strip(m), platform: m.platform })),
            }),
          ),
        );
  return { blobs, manifests, top };
}

function strip(b: BuiltBlob): { mediaType: string; digest: string; size: number } {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size };
}

/** Writes the image as an OCI layout at `dir` with `tag` (for `skopeo copy oci:<dir>:<tag> …`). */
export function writeOciLayout(dir: string, image: BuiltImage, tag: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [...image.blobs, ...image.manifests, image.top]) writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.data);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...strip(image.top), annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
}

/** Pushes the image blob by blob (children before the index). */
export async function pushImage(
  driver: {
    uploadBlob(repo: string, data: Buffer): Promise<string>;
    putManifest(repo: string, ref: string, mediaType: string, bytes: Buffer): Promise<string>;
  },
  repository: string,
  tag: string,
  image: BuiltImage,
): Promise<{ digest: string }> {
  for (const b of image.blobs) await driver.uploadBlob(repository, b.data);
  if (image.manifests.length > 1) for (const m of image.manifests) await driver.putManifest(repository, m.digest, m.mediaType, m.data);
  await driver.putManifest(repository, tag, image.top.mediaType, image.top.data);
  return { digest: image.top.digest };
}
