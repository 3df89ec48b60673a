import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { WorkloadInput, WorkloadResult } from '../common/workload-workflow.ts';
import { WORKLOAD_ERRORS, type WorkloadPreview, type WorkloadSpec } from '../common/workload.ts';
import { failureMessage, ticketApproval } from './approval.ts';

const NON_RETRYABLE = ['KubernetesRefused', 'FailpointInjected', ...Object.values(WORKLOAD_ERRORS)];

/** How long a rollout may take before the ticket is compensated. */
const ROLLOUT_TIMEOUT_MS = 5 * 60_000;

const { loadWorkloadRevision, preflightWorkload } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Forward steps: a persistent transient fault ends in compensation after a few minutes, not never. */
const { applyWorkload, pruneWorkload, recordWorkload } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The rollout wait survives worker restarts (heartbeat timeout → a new attempt) and a kube-apiserver outage
 * (connection refused → retried), up to 10 attempts within 10 min in all; then the ticket is compensated. The
 * reliability bench saw 4 of ~40 deploys compensated with 3 attempts while the worker was killed 20 times.
 */
const { waitWorkloadRollout } = proxyActivities<Activities>({
  startToCloseTimeout: '6m',
  scheduleToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** The ledger write: retried until it succeeds (the workload is in place; its billing line must follow). */
const { recordWorkloadLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Compensation: retried until it succeeds (a half-undone workload is worse than a slow undo). */
const { undoWorkload, unrecordWorkload } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['KubernetesRefused'] },
});

/**
 * Patch ids. `workload-recheck`: re-run the preflight (dry-run of every object) right before applying; a
 * different preview hash (the cluster changed out of band) voids the approvals and asks again.
 * `workload-prune`: after the rollout, delete the objects of the previous revision the new spec dropped.
 * `workload-ledger`: after the record, write the `workload.requests` ledger line from this run's history.
 */
export const WORKLOAD_PATCHES = { recheck: 'workload-recheck', prune: 'workload-prune', ledger: 'workload-ledger' } as const;
/** Re-approval rounds after which a ticket whose cluster keeps changing fails instead of asking again. */
const MAX_REAPPROVALS = 3;

/**
 * One workload ticket: deploy (a new name), upgrade (an existing name: a new revision) or rollback (a
 * recorded revision applied again as a new revision). Preflight (dry-run of every object, quota fit,
 * storage rules; any refusal fails the ticket with the preview showing why) → approval chain
 * (`approval.ts`) → re-check (the same dry-run; a changed hash goes back to approval) → apply every object
 * by server-side apply → wait for the rollout → delete the objects the new spec dropped → record the revision.
 * A failure after apply compensates in reverse: the record is removed, the previous revision re-applied
 * (upgrade/rollback) and the objects this ticket created deleted; the ticket ends `compensated`.
 */
export async function workloadWorkflow(input: WorkloadInput): Promise<WorkloadResult> {
  const approval = ticketApproval<WorkloadPreview>(input);
  const { namespace, vdc, ticketId } = input;
  let spec: WorkloadSpec;
  let preview: WorkloadPreview;
  try {
    if (input.action === 'rollback') {
      const target = input.target ?? { name: '' };
      spec = (await loadWorkloadRevision({ namespace, name: target.name, ...(target.revision !== undefined ? { revision: target.revision } : {}) })).spec;
    } else {
      if (!input.spec) return approval.finish('failed', 'preflight: no workload spec');
      spec = input.spec;
    }
    preview = await preflightWorkload({ vdc, namespace, ticketId, spec, action: input.action });
  } catch (err) {
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  if (preview.errors.length > 0) {
    approval.state.preview = preview;
    return approval.finish('failed', `preflight: ${preview.errors.join('; ')}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) return closed;
  if (patched(WORKLOAD_PATCHES.recheck)) {
    for (let round = 1; ; round++) {
      let fresh: WorkloadPreview;
      try {
        fresh = await preflightWorkload({ vdc, namespace, ticketId, spec, action: input.action });
      } catch (err) {
        return approval.finish('failed', `re-check: ${failureMessage(err)}`);
      }
      if (fresh.errors.length > 0) {
        approval.state.preview = fresh;
        return approval.finish('failed', `re-check: ${fresh.errors.join('; ')}`);
      }
      if (fresh.hash === preview.hash) break;
      if (round > MAX_REAPPROVALS)
        return approval.finish('failed', `the cluster kept changing between approval and execution (${MAX_REAPPROVALS} re-approvals)`);
      const reason = `objects of ${spec.name} in ${namespace} changed after approval (preview ${preview.hash.slice(0, 8)} → ${fresh.hash.slice(0, 8)}); approve the new preview`;
      preview = fresh;
      const again = await approval.reapprove(fresh, reason);
      if (again) return again;
    }
  }

  approval.state.status = 'executing';
  await approval.project();

  const args = { vdc, namespace, ticketId, spec, revision: preview.revision };
  const steps: string[] = [];
  const compensations: { label: string; run: () => Promise<unknown> }[] = [];
  let step = 'apply';
  try {
    // Registered before the step: objects created just before a failure are still removed (only this ticket's).
    compensations.unshift({
      label: preview.previousRevision ? `restore revision ${preview.previousRevision}` : 'delete objects',
      run: () => undoWorkload({ ...args, created: preview.objects }),
    });
    await applyWorkload(args);
    steps.push(step);
    step = 'rollout';
    await waitWorkloadRollout({ namespace, kind: spec.kind, name: spec.name, timeoutMs: ROLLOUT_TIMEOUT_MS });
    steps.push(step);
    const dropped = preview.objects.filter((o) => o.action === 'delete');
    if (dropped.length > 0 && patched(WORKLOAD_PATCHES.prune)) {
      // Undone by the restore of the previous revision registered above (it applies the dropped objects again).
      step = 'prune';
      await pruneWorkload({ namespace, name: spec.name, objects: dropped });
      steps.push(step);
    }
    step = 'record';
    compensations.unshift({ label: 'remove record', run: () => unrecordWorkload({ namespace, name: spec.name, ticketId }) });
    await recordWorkload(args);
    steps.push(step);
  } catch (err) {
    const reason = `step ${step} failed: ${failureMessage(err)}`;
    for (const c of compensations) {
      try {
        await c.run();
        steps.push(`compensated: ${c.label}`);
      } catch (cerr) {
        return { ...(await approval.finish('failed', `${reason}; compensation "${c.label}" failed: ${failureMessage(cerr)}`)), steps };
      }
    }
    return { ...(await approval.finish('compensated', reason)), steps };
  }
  if (patched(WORKLOAD_PATCHES.ledger)) await recordWorkloadLedger({ workflowId: ticketId });
  return { ...(await approval.finish('completed')), revision: preview.revision, steps };
}
