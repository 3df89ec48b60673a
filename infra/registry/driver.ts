import type { ImagePlatformView } from '../../common/images.ts';

/**
 * One interface over the two registries Edgeport drives: the local OCI registry (CNCF distribution, the
 * embedded default and the tests) and Harbor v2.0 (production). Repository names are Edgeport's
 * (`public/<name>`, `vdc-<id>/<name>`, `staging-<id>/<name>`); on Harbor the first component is the project.
 * Operations only one registry has are optional members (`capabilities` says which exist).
 */

/** A layer (or config) blob of one platform's image. */
export interface ImageLayer {
  digest: string;
  size: number;
  mediaType: string;
}

/** What `getImage` returns: the tag or digest resolved, with every platform and its layers. */
export interface ImageDetail {
  repository: string;
  reference: string;
  /** Digest of what the reference points to (an image manifest or an index). */
  digest: string;
  mediaType: string;
  multiArch: boolean;
  /** Bytes of every platform's config and layers, shared blobs counted once. */
  size: number;
  platforms: (ImagePlatformView & { layers: ImageLayer[] })[];
  /** Harbor records push time; distribution does not (null). */
  pushedAt: string | null;
  tags: string[];
}

export const SEVERITIES = ['None', 'Unknown', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank of a severity for comparisons (`None` lowest, `Critical` highest). */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** A scan result as a driver reports it (Harbor's scan overview, or the local scanner's stored result). */
export interface ScanSummary {
  status: 'Success' | 'Running' | 'Pending' | 'Error' | 'NotScanned';
  /** Highest severity found (`None` when clean). */
  severity: Severity;
  counts: Partial<Record<Severity, number>>;
  total: number;
  fixable?: number;
  scanner?: string;
  finishedAt?: string;
}

/** A Harbor project (or the local registry's namespace equivalent) and its settings. */
export interface RegistryNamespace {
  name: string;
  public: boolean;
  /** Harbor `prevent_vul` + `severity`: pulls of images with findings at or above this are refused. */
  preventVulnerable?: { enabled: boolean; severity: 'low' | 'medium' | 'high' | 'critical' | 'none' };
  /** Project storage quota in bytes (-1 = unlimited). */
  storageLimitBytes?: number;
}

export interface RobotAccount {
  id: number;
  name: string;
  /** Epoch seconds; -1 never (Edgeport always sets an expiry). */
  expiresAt: number;
  disabled: boolean;
}

/** A new (or refreshed) robot's secret: returned once, never logged; the rotation keeps it only sealed (`harbor_robot_secrets`). */
export interface CreatedRobot {
  id: number;
  name: string;
  secret: string;
  expiresAt: number;
}

export type DriverCapability = 'namespaces' | 'robots' | 'scan' | 'quota';

/** Typed failures every driver maps its HTTP statuses to, once. */
export class RegistryNotFound extends Error {
  override name = 'RegistryNotFound';
}
export class RegistryRefused extends Error {
  override name = 'RegistryRefused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RegistryDriver {
  readonly kind: 'local' | 'harbor';
  readonly capabilities: readonly DriverCapability[];
  /** Repository names, optionally only those under one namespace (`vdc-a`, `public`). */
  listRepositories(namespace?: string): Promise<string[]>;
  /** Tags of a repository, sorted; none for an unknown repository. */
  listTags(repository: string): Promise<string[]>;
  /** @throws RegistryNotFound when the repository or reference does not exist. */
  getImage(repository: string, reference: string): Promise<ImageDetail>;
  /** Removes one tag (on distribution 2.8: the manifest it points to, by digest — its other tags go too). Absent → no-op. */
  deleteTag(repository: string, tag: string): Promise<void>;
  /** Removes every artifact of the repository. Absent → no-op. */
  deleteRepository(repository: string): Promise<void>;
  /**
   * Copies the image `from.digest` (by digest, platforms of an index included) to `to.repository:to.tag`.
   * Idempotent: copying what is already there changes nothing. Returns the digest at the target (equal to the source's).
   */
  copyImage(from: { repository: string; digest: string }, to: { repository: string; tag: string }): Promise<{ digest: string }>;

  ensureNamespace?(ns: RegistryNamespace): Promise<{ created: boolean }>;
  getNamespace?(name: string): Promise<RegistryNamespace | null>;
  createRobot?(namespace: string, opts: { name: string; durationDays: number; actions: ('pull' | 'push')[] }): Promise<CreatedRobot>;
  listRobots?(namespace: string): Promise<RobotAccount[]>;
  deleteRobot?(id: number): Promise<void>;
  triggerScan?(repository: string, reference: string): Promise<void>;
  scanSummary?(repository: string, reference: string): Promise<ScanSummary>;
  setStorageLimit?(namespace: string, bytes: number): Promise<void>;
  /**
   * Whether the image `digest` is signed: on the local registry a cosign signature tag (`sha256-<hex>.sig`) in
   * the repository; on Harbor a signed tag of the artifact (`with_signature`).
   */
  signature?(repository: string, digest: string): Promise<{ signed: boolean }>;
}

/** The tag cosign stores an image's signature under: `sha256:<hex>` → `sha256-<hex>.sig`. */
export const cosignSignatureTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;
/** Tags that are signatures, attestations or SBOMs of another artifact (cosign), not images to list or scan. */
export const isCosignArtifactTag = (tag: string): boolean => /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(tag);

/** `vdc-a/app/x` → `{ namespace: 'vdc-a', name: 'app/x' }`. */
export function splitRepository(repository: string): { namespace: string; name: string } {
  const i = repository.indexOf('/');
  if (i <= 0 || i === repository.length - 1) throw new RegistryRefused(`repository ${repository} has no namespace`, 400);
  return { namespace: repository.slice(0, i), name: repository.slice(i + 1) };
}
