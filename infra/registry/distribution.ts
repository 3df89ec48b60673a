/**
 * Read side of the OCI distribution API (CNCF distribution 2.8, the local registry) for listing images:
 * catalog, tags, manifests (image manifests, OCI indexes and Docker manifest lists) and image configs.
 * The caller supplies bearer tokens per scope (Edgeport signs them itself: it is the registry's token service).
 */

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const ACCEPT = Object.values(MEDIA_TYPES).join(', ');

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  created?: string;
}

/** A registry answer other than success, mapped once here; 5xx and network failures are transient. */
export class RegistryHttpError extends Error {
  override name = 'RegistryHttpError';
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`registry answered ${status} for ${path}`);
  }
  get transient(): boolean {
    return this.status >= 500;
  }
}

export interface DistributionClientDeps {
  /** Base URL, e.g. `http://127.0.0.1:27230`. */
  url: string;
  /** A bearer token granting `scopes` (e.g. `registry:catalog:*`, `repository:public/x:pull`). */
  token(scopes: string[]): Promise<string>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export function distributionClient(deps: DistributionClientDeps) {
  const doFetch = deps.fetch ?? fetch;
  const base = deps.url.replace(/\/+$/, '');

  async function get(path: string, scopes: string[], accept = 'application/json'): Promise<Response> {
    const res = await doFetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${await deps.token(scopes)}`, accept },
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryHttpError(res.status, path);
    }
    return res;
  }
  const pull = (repo: string): string[] => [`repository:${repo}:pull`];

  return {
    /** Every repository name (follows the `Link` pagination). */
    async catalog(): Promise<string[]> {
      const names: string[] = [];
      let path: string | null = '/v2/_catalog?n=1000';
      while (path) {
        const res = await get(path, ['registry:catalog:*']);
        names.push(...(((await res.json()) as { repositories?: string[] }).repositories ?? []));
        const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
        path = next ? new URL(next, base).pathname + new URL(next, base).search : null;
      }
      return names;
    },

    /** Tags of one repository; an unknown repository has none. */
    async tags(repo: string): Promise<string[]> {
      try {
        const res = await get(`/v2/${repo}/tags/list`, pull(repo));
        return (((await res.json()) as { tags?: string[] | null }).tags ?? []).sort();
      } catch (err) {
        if (err instanceof RegistryHttpError && err.status === 404) return [];
        throw err;
      }
    },

    /** A manifest by tag or digest, with its digest (`Docker-Content-Digest`). */
    async manifest(repo: string, reference: string): Promise<{ digest: string; mediaType: string; manifest: Manifest }> {
      const res = await get(`/v2/${repo}/manifests/${reference}`, pull(repo), ACCEPT);
      const manifest = (await res.json()) as Manifest;
      return {
        digest: res.headers.get('docker-content-digest') ?? reference,
        mediaType: manifest.mediaType ?? res.headers.get('content-type') ?? '',
        manifest,
      };
    },

    async config(repo: string, digest: string): Promise<ImageConfig> {
      const res = await get(`/v2/${repo}/blobs/${digest}`, pull(repo));
      return (await res.json()) as ImageConfig;
    },
  };
}

export type DistributionClient = ReturnType<typeof distributionClient>;

export const isIndex = (mediaType: string): boolean => mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
