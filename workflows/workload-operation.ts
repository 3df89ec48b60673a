import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  WORKLOAD_OPERATION_ERRORS,
  type WorkloadDirectOperationInput,
  type WorkloadOperationInput,
  type WorkloadOperationPreview,
  type WorkloadOperationResult,
} from '../common/workload-ops.ts';
import { failureMessage, ticketApproval } from './approval.ts';

const NON_RETRYABLE = ['KubernetesRefused', ...Object.values(WORKLOAD_OPERATION_ERRORS)];

const { preflightWorkloadOperation } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** The operation itself: a persistent transient fault fails the ticket after a few minutes, not never. */
const { executeWorkloadOperation } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** The ledger write: retried until it succeeds (the operation happened; its billing line must follow). */
const { recordWorkloadLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * Patch id. `workload-operation-ledger`: after an operation that changes allocation (its result carries
 * `metered`), write the `workload.requests` ledger line from this run's history.
 */
export const WORKLOAD_OPERATION_PATCHES = { ledger: 'workload-operation-ledger' } as const;

/** A direct operation: someone waits on the HTTP response, so transient faults are retried a few times quickly. */
const { executeWorkloadOperation: executeDirectOperation } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '3s', maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * One direct day-2 operation (scale, stop, start, restart, an access change inside the cluster): the policy
 * decided in the API that it needs no approval; this short workflow (id = the operation id) performs it on
 * the worker with the same idempotent activity as an approved ticket, so the API never writes to
 * Kubernetes. A typed refusal (`WorkloadNotFound`, `WorkloadOperationRefused`, `KubernetesRefused`) fails
 * the workflow; the API maps it to the HTTP answer.
 */
export async function workloadDirectOperationWorkflow(input: WorkloadDirectOperationInput): Promise<{ changes: string[] }> {
  const { changes, metered } = await executeDirectOperation({ ...input, via: 'direct' });
  if (metered && patched(WORKLOAD_OPERATION_PATCHES.ledger)) await recordWorkloadLedger({ workflowId: input.opId });
  return { changes };
}

/**
 * One `workload-operation` ticket: a day-2 operation the policy (`policies/workload-operation.ts`) sends
 * through approval, such as a delete or exposing a workload as NodePort / LoadBalancer. Preflight (what
 * changes; a refusal such as a volume in use fails the ticket) → approval chain (`approval.ts`) → the
 * operation, one idempotent activity keyed by the ticket id (the same code the API runs for direct
 * operations). Nothing to compensate: the one step either happened or did not; a failure ends `failed`.
 */
export async function workloadOperationWorkflow(input: WorkloadOperationInput): Promise<WorkloadOperationResult> {
  const approval = ticketApproval<WorkloadOperationPreview>(input);
  const { namespace, name, operation } = input;
  let preview: WorkloadOperationPreview;
  try {
    preview = await preflightWorkloadOperation({ namespace, name, operation });
  } catch (err) {
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  if (preview.errors.length > 0) {
    approval.state.preview = preview;
    return approval.finish('failed', `preflight: ${preview.errors.join('; ')}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) return closed;

  approval.state.status = 'executing';
  await approval.project();
  try {
    const { changes, metered } = await executeWorkloadOperation({
      vdcId: input.vdc.id,
      namespace,
      name,
      operation,
      opId: input.ticketId,
      via: input.ticketId,
      actor: input.requester,
      at: new Date().toISOString(),
    });
    if (metered && patched(WORKLOAD_OPERATION_PATCHES.ledger)) await recordWorkloadLedger({ workflowId: input.ticketId });
    return { ...(await approval.finish('completed')), changed: changes };
  } catch (err) {
    return approval.finish('failed', `${operation.op}: ${failureMessage(err)}`);
  }
}
