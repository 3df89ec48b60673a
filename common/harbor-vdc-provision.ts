/**
 * Contract of the per-VDC Harbor provisioning (`workflows/harbor-vdc-provision.ts`): with Harbor as the registry,
 * a VDC gets its private project `vdc-<id>`, its staging project `staging-<id>` and the shared `public` project
 * (each with `prevent_vul` and a storage quota) and exactly one Edgeport robot account in `vdc-<id>` (pull only,
 * expiring), whose secret is sealed into MongoDB by the activity. Inputs and results carry names and ids only,
 * never a secret. With the local registry the run is a no-op (the local registry has no projects).
 */
export const HARBOR_VDC_PROVISION_WORKFLOW = 'harborVdcProvisionWorkflow';

/** Deterministic workflow id per VDC: starting it twice while one runs attaches to the running one. */
export const harborVdcProvisionId = (vdcId: string): string => `harbor-vdc-provision-${vdcId}`;

export interface HarborVdcProvisionInput {
  vdcId: string;
}

/** Harbor projects of one VDC (the first component of its repository names, see `common/images.ts`). */
export function vdcRegistryProjects(vdcId: string): { private: string; staging: string; public: string } {
  return { private: `vdc-${vdcId}`, staging: `staging-${vdcId}`, public: 'public' };
}

/**
 * The name Edgeport gives the VDC's robot (Harbor shows it as `robot$vdc-<id>+edgeport-<id>`; the prefix
 * `robot$` is configurable in Harbor, so robots are matched by the part after `+`).
 */
export const vdcRobotName = (vdcId: string): string => `edgeport-${vdcId}`;

export type ProvisionOutcome = 'created' | 'updated' | 'unchanged';

export interface HarborVdcProvisionResult {
  /** `local`: nothing to do (no projects on the local registry); `harbor`: the projects and robot below. */
  driver: 'local' | 'harbor';
  projects: { name: string; outcome: ProvisionOutcome }[];
  /** The VDC's robot (no secret): `refreshed` = it existed but Edgeport held no usable secret, or it had expired. */
  robot: { id: number; name: string; project: string; expiresAt: number; outcome: 'created' | 'refreshed' | 'unchanged' } | null;
  /** Ids of extra Edgeport robots of the VDC that were deleted (there must be exactly one). */
  removedRobots: number[];
  /** After a new robot secret was sealed: the VDC's pull Secrets written with it, per namespace (no secret). */
  pullSecrets?: { namespace: string; outcome: string }[];
}

/** Failure type names of the provisioning (non-retryable). */
export const HARBOR_PROVISION_FAILURES = {
  /** The VDC record does not exist (deleted before the run): nothing is created for it. */
  vdcNotFound: 'VdcNotFound',
  /** The worker has no credentials key to seal the robot secret with. */
  noCipher: 'HarborRobotNoCipher',
  /** Harbor refused a request (4xx other than 404), e.g. the credentials may not create projects. */
  refused: 'RegistryRefused',
} as const;
