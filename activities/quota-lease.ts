import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { VdcRef } from '../common/ticket-workflow.ts';
import { leaseRevert } from '../common/quota-lease-workflow.ts';
import type { Quota } from '../common/tickets.ts';
import type { LeaseApplyResult, LeaseRevertResult } from '../ledger/ledger-from-history.ts';
import { applyVdcQuota, type QuotaActivityDeps } from './quota-change.ts';

/**
 * Activities of the quota-lease process. The workflow computes what to apply from `readVdcQuota`
 * (so every apply is a plain idempotent write of a fixed quota, safe to retry), and passes the lease
 * times it fixed, so the ledger derived from history covers exactly the leased interval.
 */
/** The lease's ticket id: the id of the workflow running the activity. */
function leaseTicket(ctx: Context): string {
  const id = ctx.info.workflowExecution?.workflowId;
  if (!id) throw new Error('lease activities run inside a lease workflow');
  return id;
}

export function createQuotaLeaseActivities(deps: Pick<QuotaActivityDeps, 'pools' | 'store'>) {
  const { store } = deps;
  return {
    /** The quota recorded on the VDC now. Read-only. @throws `VdcNotFound` (non-retryable) */
    async readVdcQuota(args: { vdcId: string }): Promise<Quota> {
      const vdc = await store.vdcs.get(args.vdcId);
      if (!vdc) throw ApplicationFailure.nonRetryable(`VDC ${args.vdcId} no longer exists`, 'VdcNotFound');
      return vdc.quota ?? {};
    },

    /**
     * Starts a lease: records `quota` on the VDC and applies it to every namespace of the VDC.
     * Idempotent. @throws `KubernetesRefused` (non-retryable) when the cluster refuses the quota
     */
    async applyLeaseQuota(args: { vdc: VdcRef; quota: Quota; base: Quota; delta: Quota; at: string; endsAt: string }): Promise<LeaseApplyResult> {
      const ctx = Context.current();
      ctx.heartbeat('applying lease');
      // Recorded before the quota is raised, so a quota change in between already bills net of it.
      await deps.store.vdcs.addLease(args.vdc.id, { ticketId: leaseTicket(ctx), base: args.base, delta: args.delta, endsAt: args.endsAt });
      const namespaces = await applyVdcQuota(deps, args.vdc, args.quota);
      return {
        vdcId: args.vdc.id,
        domainId: args.vdc.domainId,
        pool: args.vdc.pool,
        namespace: args.vdc.namespace,
        namespaces,
        quota: args.quota,
        base: args.base,
        delta: args.delta,
        appliedAt: args.at,
        endsAt: args.endsAt,
      };
    },

    /** Ends a lease: applies the reverted quota (computed by the workflow) like `applyLeaseQuota`. Idempotent. */
    async revertLeaseQuota(args: { vdc: VdcRef; quota: Quota; at: string }): Promise<LeaseRevertResult> {
      const ctx = Context.current();
      ctx.heartbeat('reverting lease');
      const namespaces = await applyVdcQuota(deps, args.vdc, args.quota);
      await deps.store.vdcs.removeLease(args.vdc.id, leaseTicket(ctx));
      return { vdcId: args.vdc.id, namespaces, quota: args.quota, revertedAt: args.at };
    },

    /**
     * Compensates an `applyLeaseQuota` that failed for good (the workflow calls it from its failure path):
     * when the lease was recorded on the VDC, the quota goes back by the revert rule (quota now in force
     * minus the lease's increase, never below its base: what a quota change meanwhile billed as net of the
     * lease) on the VDC and, as far as the cluster accepts, on its namespaces; then the lease record is
     * removed, so no later quota change is billed net of a lease that never ran. Without a record nothing
     * was raised and nothing is touched. Idempotent; a cluster refusal is reported in `unrestored`, not
     * thrown (the record must go regardless). Bills nothing (the ledger reads no line from it).
     */
    async abandonLeaseQuota(args: { vdc: VdcRef; base: Quota; delta: Quota }): Promise<{ recorded: boolean; quota?: Quota; unrestored?: string }> {
      const ctx = Context.current();
      ctx.heartbeat('abandoning lease');
      const ticketId = leaseTicket(ctx);
      const vdc = await store.vdcs.get(args.vdc.id);
      if (!vdc?.leases?.some((l) => l.ticketId === ticketId)) return { recorded: false };
      const quota = leaseRevert(vdc.quota ?? {}, args.base, args.delta);
      let unrestored: string | undefined;
      try {
        await applyVdcQuota(deps, args.vdc, quota);
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.nonRetryable)) throw err;
        unrestored = err.message;
      }
      await store.vdcs.removeLease(args.vdc.id, ticketId);
      return { recorded: true, quota, ...(unrestored ? { unrestored } : {}) };
    },
  };
}
export type QuotaLeaseActivities = ReturnType<typeof createQuotaLeaseActivities>;
