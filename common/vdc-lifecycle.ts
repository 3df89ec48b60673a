import type { Actor } from './roles.ts';

/**
 * Contract of a VDC's lifecycle workflow (`workflows/vdc-lifecycle.ts`): one workflow per VDC, id
 * `vdcLifecycleId(vdcId)`, that provisions the VDC's default application space on every pool it lives on
 * (namespace, ResourceQuota, LimitRange, RoleBindings of its members), keeps the RoleBindings of every
 * namespace of the VDC in step with its members, and deletes the VDC. Every request is a signal sent with
 * signal-with-start: a request arriving while a pass runs makes another pass after it, so none is lost, and
 * reconcile passes and the deletion never run at the same time (one workflow serialises them).
 */
export const VDC_LIFECYCLE_WORKFLOW = 'vdcLifecycleWorkflow';

/** Name of the request signal (see {@link VdcLifecycleRequest}). */
export const VDC_LIFECYCLE_SIGNAL = 'vdcLifecycleRequest';

/** Deterministic workflow id per VDC: every request for one VDC reaches the same running workflow. */
export const vdcLifecycleId = (vdcId: string): string => `vdc-lifecycle-${vdcId}`;

/**
 * What the workflow is asked to do:
 * - `provision`: a new VDC, or an admin's retry (`POST /api/vdcs/:id/provision`): a full reconcile pass whose
 *   outcome is recorded on the VDC as `ready` or `failed` with the reason.
 * - `members`: its members changed: the same reconcile pass (RoleBindings in every namespace of the VDC).
 * - `delete`: the VDC is `deleting`: remove its namespaces on every pool, its registry projects and robot,
 *   its pull credential, its role bindings and its record.
 * - `rotate-pull-credential`: a reconcile pass that first replaces the VDC's image pull credential (once per
 *   `rotationId`), then rewrites the pull Secret in every namespace of the VDC.
 */
export const VDC_LIFECYCLE_ACTIONS = ['provision', 'members', 'delete', 'rotate-pull-credential'] as const;
export type VdcLifecycleAction = (typeof VDC_LIFECYCLE_ACTIONS)[number];

export interface VdcLifecycleRequest {
  action: VdcLifecycleAction;
  /** Who asked (audited on deletion); absent for system requests. */
  actor?: Actor;
  /** `rotate-pull-credential` only: the request's id (a retried activity rotates once per id). Not a secret. */
  rotationId?: string;
}

export interface VdcLifecycleInput {
  vdcId: string;
  /** Requests not handled yet (the first request of a run; carried over on continue-as-new). */
  pending: VdcLifecycleRequest[];
}

/** What one reconcile pass did on one pool (or one application space). */
export interface VdcPoolOutcome {
  pool: string;
  namespace: string;
  /** `ok`, `absent` (an application space whose namespace is gone: nothing to bind) or `failed`. */
  outcome: 'ok' | 'absent' | 'failed';
  error?: string;
  /** What writing the namespace's pull Secret did (`applied`, `pending` on Harbor before its robot, …); passes recorded before it lack it. */
  pullSecret?: string;
}

export interface VdcLifecycleResult {
  vdcId: string;
  /** One entry per pass, in order. */
  passes: {
    action: 'reconcile' | 'delete' | 'skipped';
    state?: string;
    reason?: string;
    namespaces: VdcPoolOutcome[];
    pullCredential?: { driver: string; created: boolean; rotated: boolean };
  }[];
}

/** Failure type names of the lifecycle activities (non-retryable). */
export const VDC_LIFECYCLE_FAILURES = {
  /** A namespace of that name exists on the pool but is not this VDC's (no Edgeport label or annotation for it). */
  namespaceTaken: 'VdcNamespaceTaken',
  /** The pool refused a write (4xx), e.g. the registered identity may not create namespaces or bind roles. */
  refused: 'KubernetesRefused',
} as const;

/** Annotation naming the VDC a default namespace was made for: proof of ownership for retries and deletion. */
export const VDC_OWNER_ANNOTATION = 'edgeport.io/vdc-owner';
