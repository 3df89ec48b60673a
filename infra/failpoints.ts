import { ApplicationFailure } from '@temporalio/common';

/**
 * Named crash points for fault-injection tests (EDGEPORT_FAILPOINTS, comma-separated). An armed point
 * kills the process with SIGKILL, as a power cut would; it fires only on the first attempt of an
 * activity, so the retry that follows runs normally. A point listed in `FAILING_POINTS` instead fails
 * the activity with a non-retryable `FailpointInjected` failure (a refusal no retry can fix).
 * Empty in every non-test deployment.
 */
export const FAILPOINTS = {
  /** Worker: inside applyQuota, after the server-side apply and before the activity returns. */
  workerAfterApply: 'worker-after-apply',
  /** API: after the ticket is stored and before its workflow is started. */
  apiAfterInsert: 'api-after-insert',
  /** Worker: inside applySpaceRbac, before the RoleBindings are applied; fails the step, so the space is compensated. */
  workerFailSpaceRbac: 'worker-fail-space-rbac',
  /** Worker: inside waitWorkloadRollout, after the objects are applied; fails the step, so the workload is compensated. */
  workerFailWorkloadRollout: 'worker-fail-workload-rollout',
  /** Worker: inside pruneWorkload, after the dropped objects are deleted; fails the step, so the upgrade is compensated. */
  workerFailWorkloadPrune: 'worker-fail-workload-prune',
  /** Worker: inside applyQuota, after the VDC and its namespaces got the new quota; fails the step, so the quota is restored. */
  workerFailQuotaApply: 'worker-fail-quota-apply',
} as const;
export type Failpoint = (typeof FAILPOINTS)[keyof typeof FAILPOINTS];

/** Points that fail the activity instead of killing the process. */
const FAILING_POINTS: ReadonlySet<Failpoint> = new Set([
  FAILPOINTS.workerFailWorkloadRollout,
  FAILPOINTS.workerFailSpaceRbac,
  FAILPOINTS.workerFailWorkloadPrune,
  FAILPOINTS.workerFailQuotaApply,
]);

export function failpoints(armed: readonly string[]): (name: Failpoint, firstAttempt?: boolean) => void {
  const set = new Set(armed);
  return (name, firstAttempt = true) => {
    if (!firstAttempt || !set.has(name)) return;
    if (FAILING_POINTS.has(name)) throw ApplicationFailure.nonRetryable(`failpoint ${name} armed`, 'FailpointInjected');
    process.kill(process.pid, 'SIGKILL');
  };
}
