/**
 * Named crash points for fault-injection tests (EDGEPORT_FAILPOINTS, comma-separated). An armed point
 * kills the process with SIGKILL, as a power cut would; it fires only on the first attempt of an
 * activity, so the retry that follows runs normally. Empty in every non-test deployment.
 */
export const FAILPOINTS = {
  /** Worker: inside applyQuota, after the server-side apply and before the activity returns. */
  workerAfterApply: 'worker-after-apply',
  /** API: after the ticket is stored and before its workflow is started. */
  apiAfterInsert: 'api-after-insert',
} as const;
export type Failpoint = (typeof FAILPOINTS)[keyof typeof FAILPOINTS];

export function failpoints(armed: readonly string[]): (name: Failpoint, firstAttempt?: boolean) => void {
  const set = new Set(armed);
  return (name, firstAttempt = true) => {
    if (firstAttempt && set.has(name)) process.kill(process.pid, 'SIGKILL');
  };
}
