import { defineQuery } from '@temporalio/workflow';
import type { Quota, QuotaLeaseRequest } from './tickets.ts';
import { QUOTA_RESOURCES } from './tickets.ts';
import type { TicketWorkflowInput, TicketWorkflowResult } from './ticket-workflow.ts';

/** Temporal workflow type of a quota-lease ticket. */
export const QUOTA_LEASE_WORKFLOW = 'quotaLeaseWorkflow';

export interface QuotaLeaseInput extends TicketWorkflowInput {
  /** The quota in force during the lease (only the leased resources). */
  leased: Quota;
  /** The window as requested; the workflow fixes it when it applies (see `leaseWindow`). */
  lease: Pick<QuotaLeaseRequest, 'startsAt' | 'endsAt' | 'durationHours'>;
}

export interface QuotaLeaseResult extends TicketWorkflowResult {
  /** Start of the lease (when the increase was applied). */
  appliedAt?: string;
  /** End of the lease (when it was reverted); the ledger line covers exactly [appliedAt, revertedAt). */
  revertedAt?: string;
}

/** Where a lease is: waiting for approval, approved and waiting for its start, in force, or over. */
export type LeasePhase = 'awaiting-approval' | 'scheduled' | 'active' | 'reverted' | 'closed';

export interface LeaseInfo {
  phase: LeasePhase;
  startsAt?: string;
  endsAt?: string;
  /** The quota in force before the lease, read when it was applied. */
  base?: Quota;
  /** The increase the lease added (per leased resource, > 0). */
  delta?: Quota;
}

/** Lease window and phase; the ticket's `state` query carries the approval side. */
export const leaseQuery = defineQuery<LeaseInfo>('lease');

const round = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * The quota to apply for a lease over `base` (the quota in force), and the increase it adds: each
 * leased resource goes to the leased value, never below its base (a base that grew meanwhile stays).
 */
export function leasePlan(base: Quota, leased: Quota): { quota: Quota; delta: Quota } {
  const quota: Quota = { ...base };
  const delta: Quota = {};
  for (const r of QUOTA_RESOURCES) {
    const to = leased[r];
    if (to === undefined) continue;
    const from = base[r] ?? 0;
    quota[r] = Math.max(from, to);
    if (to > from) delta[r] = round(to - from);
  }
  return { quota, delta };
}

/**
 * The quota after a lease ends, recomputed at the end from the quota then in force: each leased
 * resource loses the lease's increase, never going below the base (other changes made meanwhile stay).
 */
/** A lease in force on a VDC, as recorded on the VDC while it runs. */
export interface ActiveLease {
  ticketId: string;
  base: Quota;
  delta: Quota;
  endsAt: string;
}

/**
 * The part of `quota` that is not leased: the quota once every active lease has reverted (each by the same
 * rule as its revert). A quota change recorded during a lease bills this, since the lease's own line bills
 * the increase until the lease ends.
 */
export const netOfLeases = (quota: Quota, leases: readonly ActiveLease[]): Quota => leases.reduce((q, l) => leaseRevert(q, l.base, l.delta), quota);

export function leaseRevert(current: Quota, base: Quota, delta: Quota): Quota {
  const out: Quota = { ...current };
  for (const r of QUOTA_RESOURCES) {
    const d = delta[r];
    if (d === undefined) continue;
    out[r] = round(Math.max(base[r] ?? 0, (current[r] ?? 0) - d));
  }
  return out;
}
