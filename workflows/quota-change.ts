import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { QuotaChangeInput, QuotaChangeResult } from '../common/quota-change-workflow.ts';
import type { QuotaPreview } from '../common/tickets.ts';
import { failureMessage, ticketApproval } from './approval.ts';

/** Bounded (about 2.5 min): a pool unreachable for that long fails the ticket at preflight, naming the error. */
const { preflightQuota } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

const { applyQuota, restoreQuota, recordLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '5s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['KubernetesRefused'] },
});

/**
 * Patch ids. `quota-recheck`: re-run preflight right before applying; a changed hash goes back to approval.
 * `quota-compensate`: an apply that fails for good puts the previous quota back (ticket `compensated`).
 * `quota-preflight-refusal`: a preflight that fails for good (VDC not provisioned on its pool, pool unknown or
 * its credentials unreadable) ends the ticket `failed` with the reason, before any approval or write.
 */
export const QUOTA_PATCHES = { recheck: 'quota-recheck', compensate: 'quota-compensate', preflightRefusal: 'quota-preflight-refusal' } as const;
/** Re-approval rounds after which a ticket whose cluster keeps changing fails instead of asking again. */
const MAX_REAPPROVALS = 3;

/**
 * One quota-change ticket: preflight → approval chain (shared mechanics in `approval.ts`) → apply → ledger;
 * an apply that fails for good is compensated by restoring the previous quota (no ledger line: none is
 * derived from a failed apply).
 * Workflow id = ticket id. Each state change is projected onto the ticket document by an activity.
 * The command sequence is that of the recorded history `__fixtures__/quota-change-approved.json`; a change
 * to it needs `patched()`.
 */
export async function quotaChangeWorkflow(input: QuotaChangeInput): Promise<QuotaChangeResult> {
  const approval = ticketApproval<QuotaPreview>(input);
  let preview: QuotaPreview;
  try {
    preview = await preflightQuota({ namespace: input.vdc.namespace, requested: input.requested });
  } catch (err) {
    // A quota that cannot be applied (namespace or pool missing) is refused before anyone approves.
    if (!patched(QUOTA_PATCHES.preflightRefusal)) throw err;
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) return closed;
  if (patched(QUOTA_PATCHES.recheck)) {
    for (let round = 1; ; round++) {
      const fresh = await preflightQuota({ namespace: input.vdc.namespace, requested: input.requested });
      if (fresh.hash === preview.hash) break;
      if (round > MAX_REAPPROVALS)
        return approval.finish('failed', `the cluster kept changing between approval and execution (${MAX_REAPPROVALS} re-approvals)`);
      const reason = `ResourceQuota of ${input.vdc.namespace} changed after approval (preview ${preview.hash.slice(0, 8)} → ${fresh.hash.slice(0, 8)}); approve the new preview`;
      preview = fresh;
      const again = await approval.reapprove(fresh, reason);
      if (again) return again;
    }
  }

  approval.state.status = 'executing';
  await approval.project();
  let appliedAt: string;
  try {
    const applied = await applyQuota({ vdc: input.vdc, current: preview.current, requested: input.requested });
    appliedAt = applied.appliedAt;
  } catch (err) {
    if (!patched(QUOTA_PATCHES.compensate)) return approval.finish('failed', failureMessage(err));
    // The apply may have reached the VDC record and some namespaces: put back the quota the approver saw.
    try {
      await restoreQuota({ vdc: input.vdc, quota: preview.current });
    } catch (undoErr) {
      return approval.finish('failed', `${failureMessage(err)}; previous quota not restored: ${failureMessage(undoErr)}`);
    }
    return approval.finish('compensated', `${failureMessage(err)}; previous quota restored`);
  }
  await recordLedger({ ticketId: input.ticketId });
  const result = await approval.finish('completed');
  return { ...result, appliedAt };
}
