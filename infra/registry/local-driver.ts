import { createHash } from 'node:crypto';
import { distributionClient, isIndex, MEDIA_TYPES, RegistryHttpError, type Manifest } from './distribution.ts';
import { cosignSignatureTag, RegistryNotFound, RegistryRefused, type ImageDetail, type ImageLayer, type RegistryDriver } from './driver.ts';

const ACCEPT = Object.values(MEDIA_TYPES).join(', ');

export interface LocalDriverDeps {
  /** Base URL of the distribution registry, e.g. `http://127.0.0.1:27230`. */
  url: string;
  /** A bearer token granting `scopes`; the worker signs its own (it holds the token key). */
  token(scopes: string[]): Promise<string>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** The raw bytes of a manifest as stored (re-uploading exactly these keeps the digest). */
interface RawManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  manifest: Manifest;
}

/**
 * Registry driver over the OCI distribution API v2 (Debian docker-registry 2.8): catalog, tags, manifests
 * and indexes, cross-repository blob mount (with a streamed copy as fallback), manifest put and delete.
 * Every registry status is mapped here, once: 404 → RegistryNotFound, other 4xx → RegistryRefused
 * (non-retryable), 5xx and network errors stay plain errors (retried by the activity's policy).
 */
export function localRegistryDriver(deps: LocalDriverDeps): RegistryDriver & {
  /** Uploads a blob (monolithic) unless present; returns its digest. */
  uploadBlob(repository: string, data: Buffer): Promise<string>;
  putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string>;
  readBlob(repository: string, digest: string): Promise<Buffer>;
} {
  const doFetch = deps.fetch ?? fetch;
  const base = deps.url.replace(/\/+$/, '');
  const read = distributionClient({ url: base, token: deps.token, ...(deps.fetch ? { fetch: deps.fetch } : {}) });

  async function call(
    method: string,
    pathOrUrl: string,
    scopes: string[],
    init: { headers?: Record<string, string>; body?: Buffer; ok?: number[] } = {},
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${base}${pathOrUrl}`;
    const res = await doFetch(url, {
      method,
      headers: { authorization: `Bearer ${await deps.token(scopes)}`, ...init.headers },
      ...(init.body ? { body: new Uint8Array(init.body) } : {}),
      signal: AbortSignal.timeout(deps.timeoutMs ?? 60_000),
    });
    if (res.ok || init.ok?.includes(res.status)) return res;
    await res.body?.cancel();
    const path = new URL(url).pathname;
    if (res.status === 404) throw new RegistryNotFound(`registry has no ${path}`);
    if (res.status >= 400 && res.status < 500) throw new RegistryRefused(`registry refused ${method} ${path} (${res.status})`, res.status);
    throw new RegistryHttpError(res.status, path);
  }

  const pull = (r: string): string => `repository:${r}:pull`;
  const pushPull = (r: string): string => `repository:${r}:pull,push`;

  async function rawManifest(repository: string, reference: string): Promise<RawManifest> {
    const res = await call('GET', `/v2/${repository}/manifests/${reference}`, [pull(repository)], { headers: { accept: ACCEPT } });
    const bytes = Buffer.from(await res.arrayBuffer());
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return { digest, mediaType: manifest.mediaType ?? res.headers.get('content-type') ?? MEDIA_TYPES.ociManifest, bytes, manifest };
  }

  async function exists(path: string, scopes: string[]): Promise<boolean> {
    const res = await call('HEAD', path, scopes, { ok: [404] });
    return res.status !== 404;
  }

  /** Digest a tag points to (HEAD, no body), or null when the tag is gone. */
  async function headDigest(repository: string, reference: string): Promise<string | null> {
    const res = await call('HEAD', `/v2/${repository}/manifests/${reference}`, [pull(repository)], { headers: { accept: ACCEPT }, ok: [404] });
    return res.status === 404 ? null : res.headers.get('docker-content-digest');
  }

  async function readBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await call('GET', `/v2/${repository}/blobs/${digest}`, [pull(repository)]);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Completes an upload session at `location` with `data` as one chunk. */
  async function finishUpload(repository: string, location: string, digest: string, data: Buffer): Promise<void> {
    const url = new URL(location, base);
    url.searchParams.set('digest', digest);
    await call('PUT', url.toString(), [pushPull(repository)], { headers: { 'content-type': 'application/octet-stream' }, body: data });
  }

  async function uploadBlob(repository: string, data: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (await exists(`/v2/${repository}/blobs/${digest}`, [pushPull(repository)])) return digest;
    const started = await call('POST', `/v2/${repository}/blobs/uploads/`, [pushPull(repository)]);
    await finishUpload(repository, started.headers.get('location') ?? '', digest, data);
    return digest;
  }

  /** Mounts `digest` from `from` into `to` (same storage: no bytes move); streams it when the registry declines. */
  async function copyBlob(from: string, to: string, digest: string): Promise<void> {
    if (await exists(`/v2/${to}/blobs/${digest}`, [pushPull(to)])) return;
    const res = await call('POST', `/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, [pushPull(to), pull(from)]);
    if (res.status === 201) return;
    await finishUpload(to, res.headers.get('location') ?? '', digest, await readBlob(from, digest));
  }

  async function putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await call('PUT', `/v2/${repository}/manifests/${reference}`, [pushPull(repository)], { headers: { 'content-type': mediaType }, body: bytes });
    return res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  /** Copies one image manifest (its blobs first), or an index (each platform's manifest first). */
  async function copyManifest(from: string, to: string, m: RawManifest): Promise<void> {
    if (isIndex(m.mediaType)) {
      for (const child of m.manifest.manifests ?? []) {
        if (await exists(`/v2/${to}/manifests/${child.digest}`, [pushPull(to)])) continue;
        await copyManifest(from, to, await rawManifest(from, child.digest));
      }
    } else {
      for (const b of [...(m.manifest.config ? [m.manifest.config] : []), ...(m.manifest.layers ?? [])]) await copyBlob(from, to, b.digest);
    }
    await putManifest(to, m.digest, m.mediaType, m.bytes);
  }

  async function getImage(repository: string, reference: string): Promise<ImageDetail> {
    const top = await rawManifest(repository, reference);
    const blobs = new Map<string, number>();
    const layersOf = (m: Manifest): ImageLayer[] => {
      const all = [...(m.config ? [m.config] : []), ...(m.layers ?? [])];
      for (const d of all) blobs.set(d.digest, d.size);
      return (m.layers ?? []).map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType ?? '' }));
    };
    const sizeOf = (m: Manifest): number => [...(m.config ? [m.config] : []), ...(m.layers ?? [])].reduce((a, d) => a + d.size, 0);
    const platforms: ImageDetail['platforms'] = [];
    if (isIndex(top.mediaType)) {
      for (const d of top.manifest.manifests ?? []) {
        if (!d.platform?.architecture || d.platform.architecture === 'unknown') continue;
        const child = await rawManifest(repository, d.digest);
        platforms.push({
          os: d.platform.os ?? 'unknown',
          architecture: d.platform.architecture,
          ...(d.platform.variant ? { variant: d.platform.variant } : {}),
          digest: child.digest,
          size: sizeOf(child.manifest),
          layers: layersOf(child.manifest),
        });
      }
    } else {
      const config = top.manifest.config ? await read.config(repository, top.manifest.config.digest) : {};
      platforms.push({
        os: config.os ?? 'unknown',
        architecture: config.architecture ?? 'unknown',
        ...(config.variant ? { variant: config.variant } : {}),
        digest: top.digest,
        size: sizeOf(top.manifest),
        layers: layersOf(top.manifest),
      });
    }
    const tags: string[] = [];
    for (const t of await read.tags(repository)) {
      if (t === reference || (await headDigest(repository, t)) === top.digest) tags.push(t);
    }
    return {
      repository,
      reference,
      digest: top.digest,
      mediaType: top.mediaType,
      multiArch: isIndex(top.mediaType),
      size: [...blobs.values()].reduce((a, b) => a + b, 0),
      platforms,
      pushedAt: null,
      tags,
    };
  }

  async function deleteManifest(repository: string, digest: string): Promise<void> {
    await call('DELETE', `/v2/${repository}/manifests/${digest}`, [`repository:${repository}:delete`], { ok: [404] });
  }

  return {
    kind: 'local',
    capabilities: [],
    async listRepositories(namespace?: string): Promise<string[]> {
      const all = await read.catalog();
      const names = namespace === undefined ? all : all.filter((n) => n.startsWith(`${namespace}/`));
      const withTags: string[] = [];
      // The catalog keeps repositories whose tags were all deleted; they are not listed.
      for (const n of names) if ((await read.tags(n)).length > 0) withTags.push(n);
      return withTags;
    },
    listTags: (repository) => read.tags(repository),
    getImage: async (repository, reference) => {
      try {
        return await getImage(repository, reference);
      } catch (err) {
        if (err instanceof RegistryHttpError && err.status === 404) throw new RegistryNotFound(`${repository}:${reference} not found`);
        throw err;
      }
    },
    async deleteTag(repository, tag) {
      let digest: string;
      try {
        digest = (await rawManifest(repository, tag)).digest;
      } catch (err) {
        if (err instanceof RegistryNotFound) return;
        throw err;
      }
      // distribution 2.8 cannot delete a tag by name (STACK.md): the manifest goes, with every tag on it.
      await deleteManifest(repository, digest);
    },
    async deleteRepository(repository) {
      for (const tag of await read.tags(repository)) {
        try {
          await deleteManifest(repository, (await rawManifest(repository, tag)).digest);
        } catch (err) {
          if (!(err instanceof RegistryNotFound)) throw err;
        }
      }
    },
    async copyImage(from, to) {
      const src = await rawManifest(from.repository, from.digest);
      if (src.digest !== from.digest) throw new RegistryRefused(`registry returned ${src.digest} for ${from.digest}`, 409);
      const present = await exists(`/v2/${to.repository}/manifests/${from.digest}`, [pushPull(to.repository)]);
      if (!present) await copyManifest(from.repository, to.repository, src);
      const digest = await putManifest(to.repository, to.tag, src.mediaType, src.bytes);
      return { digest };
    },
    async signature(repository, digest) {
      return { signed: (await read.tags(repository)).includes(cosignSignatureTag(digest)) };
    },
    uploadBlob,
    putManifest,
    readBlob,
  };
}
