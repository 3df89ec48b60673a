/**
 * Contract of the scheduled Harbor robot rotation (`workflows/harbor-robot-rotation.ts`): robots of the VDC
 * projects (`vdc-<id>`) of the configured Harbor that expire within `windowDays` are extended to
 * `durationDays` from now and given a new secret, which is sealed into MongoDB; the workflow carries no secret.
 */
export const HARBOR_ROBOT_ROTATION_WORKFLOW = 'harborRobotRotationWorkflow';

export interface HarborRobotRotationInput {
  /** Robots expiring within this many days of the run are rotated. */
  windowDays: number;
  /** A rotated robot expires this many days after the run. */
  durationDays: number;
}

export interface RotatedRobot {
  id: number;
  name: string;
  project: string;
  /** New expiry, epoch seconds. */
  expiresAt: number;
  /** The VDC's pull Secrets rewritten with the new secret, per namespace (`applied`, `absent`, `failed: …`); no secret. */
  pullSecrets?: { namespace: string; outcome: string }[];
}

export interface HarborRobotRotationResult {
  /** Robots looked at (every robot of every VDC project). */
  checked: number;
  rotated: RotatedRobot[];
  /** Robots Harbor refused to update (e.g. 403), by id and reason; the others still rotate. */
  failed: { id: number; name: string; reason: string }[];
}

/** Failure type names of the rotation (non-retryable). */
export const HARBOR_ROBOT_FAILURES = {
  /** The worker's registry is not Harbor (`EDGEPORT_REGISTRY_DRIVER=harbor` not set). */
  notHarbor: 'RegistryNotHarbor',
  /** The worker has no credentials key to seal the new secrets with. */
  noCipher: 'HarborRobotNoCipher',
} as const;

/** Deterministic workflow id of the rotation run of the interval starting at `start`: one run per interval. */
export const harborRobotRotationId = (start: Date): string => `harbor-robot-rotation-${start.toISOString()}`;
