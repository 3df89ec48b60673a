import { condition, patched, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { leasePlan, leaseQuery, leaseRevert, type LeaseInfo, type QuotaLeaseInput, type QuotaLeaseResult } from '../common/quota-lease-workflow.ts';
import { cancelSignal } from '../common/ticket-workflow.ts';
import { leaseWindow, type QuotaPreview } from '../common/tickets.ts';
import { failureMessage, ticketApproval } from './approval.ts';

const { preflightQuota, readVdcQuota } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: ['VdcNotFound'] },
});

/** Short writes (a few namespaces); bounded by startToClose only, so a loaded worker is not timed out mid-apply. */
const { applyLeaseQuota, revertLeaseQuota, abandonLeaseQuota, recordLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['KubernetesRefused'] },
});

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Patch ids. `lease-abandon`: an apply that failed for good is compensated (`abandonLeaseQuota`: quota
 * back, lease record removed), so no later quota change is billed net of a lease that never ran.
 * `lease-preflight-refusal`: a preflight that fails for good (VDC not provisioned on its pool, pool unknown)
 * ends the ticket `failed` with the reason before any approval or write.
 */
export const LEASE_PATCHES = { abandon: 'lease-abandon', preflightRefusal: 'lease-preflight-refusal' } as const;

/**
 * One quota-lease ticket (a time-boxed temporary increase): preflight → approval chain (shared mechanics
 * in `approval.ts`) → durable timer until the start (a `cancel` signal still ends it there) → apply the
 * increase → ledger → durable timer until the end → revert (recomputed then: quota in force minus the
 * lease's increase, never below the base) → ledger again, now with the line's end.
 * The lease's start and end are workflow times passed to the activities, so the ledger derived from
 * history bills exactly the leased interval even when the worker applies or reverts late.
 */
export async function quotaLeaseWorkflow(input: QuotaLeaseInput): Promise<QuotaLeaseResult> {
  const approval = ticketApproval<QuotaPreview>(input);
  const lease: LeaseInfo = { phase: 'awaiting-approval' };
  setHandler(leaseQuery, () => lease);
  let preview: QuotaPreview;
  try {
    preview = await preflightQuota({ namespace: input.vdc.namespace, requested: input.leased });
  } catch (err) {
    if (!patched(LEASE_PATCHES.preflightRefusal)) throw err;
    lease.phase = 'closed';
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) {
    lease.phase = 'closed';
    return closed;
  }

  const planned = leaseWindow(input.lease, Date.now());
  Object.assign(lease, { startsAt: iso(planned.startMs), endsAt: iso(planned.endMs) });
  if (planned.startMs > Date.now()) {
    // Approved but not begun: the lease can still be withdrawn, so a cancel is honoured until the start.
    let cancelled: string | undefined;
    setHandler(cancelSignal, ({ actor, reason }) => {
      cancelled ??= `cancelled by ${actor.name}${reason ? `: ${reason}` : ''}`;
    });
    lease.phase = 'scheduled';
    if (await condition(() => cancelled !== undefined, planned.startMs - Date.now())) {
      lease.phase = 'closed';
      return approval.finish('cancelled', cancelled);
    }
  }

  const { startMs, endMs } = leaseWindow(input.lease, Date.now());
  if (endMs <= startMs) {
    lease.phase = 'closed';
    return approval.finish('failed', `the lease window ended (${iso(endMs)}) before it could start`);
  }
  approval.state.status = 'executing';
  await approval.project();
  const appliedAt = iso(startMs);
  const revertedAt = iso(endMs);
  let base;
  let delta;
  try {
    base = await readVdcQuota({ vdcId: input.vdc.id });
    const plan = leasePlan(base, input.leased);
    delta = plan.delta;
    await applyLeaseQuota({ vdc: input.vdc, quota: plan.quota, base, delta, at: appliedAt, endsAt: revertedAt });
  } catch (err) {
    lease.phase = 'closed';
    let detail = '';
    if (base && delta && patched(LEASE_PATCHES.abandon)) {
      try {
        const undone = await abandonLeaseQuota({ vdc: input.vdc, base, delta });
        if (undone.unrestored) detail = `; quota not restored on the cluster: ${undone.unrestored}`;
      } catch (undoErr) {
        detail = `; lease not abandoned: ${failureMessage(undoErr)}`;
      }
    }
    return approval.finish('failed', failureMessage(err) + detail);
  }
  Object.assign(lease, { phase: 'active', startsAt: appliedAt, endsAt: revertedAt, base, delta });
  await recordLedger({ ticketId: input.ticketId });

  if (endMs > Date.now()) await sleep(endMs - Date.now());
  try {
    const current = await readVdcQuota({ vdcId: input.vdc.id });
    await revertLeaseQuota({ vdc: input.vdc, quota: leaseRevert(current, base, delta), at: revertedAt });
  } catch (err) {
    return approval.finish('failed', `lease not reverted: ${failureMessage(err)}`);
  }
  lease.phase = 'reverted';
  await recordLedger({ ticketId: input.ticketId });
  const result = await approval.finish('completed');
  return { ...result, appliedAt, revertedAt };
}
