/**
 * Repository naming of the image registry (local OCI registry and, later, Harbor projects):
 * - `public/<name>`: pullable by every signed-in user; pushed only by operations admins (or by promotion).
 * - `vdc-<vdcId>/<name>`: a VDC's private images; pulled by its members, pushed by those who may submit requests there.
 * - `staging-<vdcId>/<name>`: where a VDC's members push images before a publish ticket promotes them.
 */
export const IMAGE_VISIBILITIES = { public: 'public', private: 'private', staging: 'staging' } as const;
export type ImageVisibility = (typeof IMAGE_VISIBILITIES)[keyof typeof IMAGE_VISIBILITIES];

/** Where a repository belongs; `other` for names outside the three namespaces (operations admins only). */
export type RepositoryOwner = { visibility: 'public' } | { visibility: 'private' | 'staging'; vdcId: string } | { visibility: 'other' };

/** Classifies a repository name by its first path component. */
export function repositoryOwner(name: string): RepositoryOwner {
  const slash = name.indexOf('/');
  if (slash <= 0 || slash === name.length - 1) return { visibility: 'other' };
  const head = name.slice(0, slash);
  if (head === 'public') return { visibility: 'public' };
  const m = /^(vdc|staging)-([a-z0-9]([a-z0-9-]*[a-z0-9])?)$/.exec(head);
  if (!m) return { visibility: 'other' };
  return { visibility: m[1] === 'vdc' ? 'private' : 'staging', vdcId: m[2]! };
}

/** One platform of an image (a single-platform image has exactly one). */
export interface ImagePlatformView {
  os: string;
  architecture: string;
  variant?: string;
  /** Digest of this platform's image manifest. */
  digest: string;
  /** Bytes of config plus layers (compressed, as stored). */
  size: number;
}

export interface ImageTagView {
  tag: string;
  /** Digest of what the tag points to (an image manifest or an index / manifest list). */
  digest: string;
  mediaType: string;
  /** True when the tag points to an index (manifest list). */
  multiArch: boolean;
  /** Bytes of every platform's config and layers (layers shared between platforms counted once). */
  size: number;
  platforms: ImagePlatformView[];
  /** Image build time from the config (`created`), when the config records it. */
  created: string | null;
  /** Push time: the distribution registry does not record it (Harbor does), so null on the local registry. */
  pushedAt: string | null;
  /** A cosign signature (`sha256-<hex>.sig` tag) of this digest is in the repository. */
  signed?: boolean;
  /** Summary of the digest's last scan (null: never scanned). */
  scan?: { severity: string; counts: Record<string, number>; scannedAt: string; findings: number } | null;
}

export interface ImageRepositoryView {
  name: string;
  visibility: ImageVisibility;
  vdcId: string | null;
  /** `<registry host>/<name>:<tag>` prefix for `docker pull` / `skopeo copy`. */
  pullRef: string;
  tags: ImageTagView[];
}
