import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ledgerLineId } from '../store/ledger.ts';
import { imageStorageLedgerLines } from './ledger-images.ts';
import { nodeJoinLedgerLines } from './ledger-node-join.ts';
import { volumeLedgerLines } from './ledger-volumes.ts';
import { workloadLedgerLines } from './ledger-workloads.ts';
import type { LedgerLine } from '../common/billing.ts';

type LedgerQuota = { cpu?: number; memoryGi?: number; pods?: number };

/** Result of the `applyQuota` activity; recorded in history, so the ledger can be rebuilt from it. */
export interface ApplyQuotaResult {
  vdcId: string;
  domainId: string;
  pool: string;
  /** The VDC's first namespace. */
  namespace: string;
  /** Every namespace the quota was applied to (absent in histories recorded before spaces were covered). */
  namespaces?: string[];
  /** The full quota in force after the apply (not only the changed resources). */
  quota: LedgerQuota;
  /**
   * What the allocation line bills when leases were in force at the apply: `quota` net of their increases
   * (each lease's own line bills its increase until it ends). Absent: `quota`.
   */
  billed?: LedgerQuota;
  /** The leases (ticket ids) `billed` is net of. */
  leases?: string[];
  appliedAt: string;
}

/** Result of `applyLeaseQuota`: the start of a lease. */
export interface LeaseApplyResult extends ApplyQuotaResult {
  /** The quota in force before the lease. */
  base: LedgerQuota;
  /** The increase the lease adds (what the lease line bills). */
  delta: LedgerQuota;
  /** When the lease is due to end. */
  endsAt: string;
}

/** Result of `revertLeaseQuota`: the end of a lease. */
export interface LeaseRevertResult {
  vdcId: string;
  namespaces: string[];
  /** The full quota in force after the revert. */
  quota: LedgerQuota;
  revertedAt: string;
}

export const QUOTA_UNITS = { cpu: 'core', memoryGi: 'GiB', pods: 'pod' } as const;

type History = temporal.api.history.v1.IHistory;
type Line = Omit<LedgerLine, 'createdAt'>;

/**
 * Derives the billable facts of one workflow run from its history. Pure and deterministic: the same
 * history always yields the same lines (used by writes and by verify).
 * - each completed `applyQuota` is one `quota.allocation.changed` line (open-ended), provenance = its
 *   ActivityTaskCompleted event;
 * - each completed `applyLeaseQuota` is one `quota.lease` line billing the increase from the apply;
 *   provenance = the apply's completed event; once the following `revertLeaseQuota` has completed, the
 *   same line (same id) carries `end` = the revert time, so it covers exactly the leased interval.
 */
export function ledgerLinesFromHistory(workflowId: string, history: History): Line[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const scheduledType = new Map<number, string>();
  const lines: Line[] = [];
  let openLease: Line | undefined;
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    const scheduled = ev.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name) scheduledType.set(eventId, scheduled.activityType.name);
    const completed = ev.activityTaskCompletedEventAttributes;
    if (!completed) continue;
    const type = scheduledType.get(Number(completed.scheduledEventId ?? 0));
    const payload = completed.result?.payloads?.[0];
    if (!payload || (type !== 'applyQuota' && type !== 'applyLeaseQuota' && type !== 'revertLeaseQuota')) continue;
    const base = { _id: ledgerLineId(workflowId, runId, eventId), workflowId, runId, eventId, units: { ...QUOTA_UNITS } };
    if (type === 'applyQuota') {
      const r = defaultPayloadConverter.fromPayload<ApplyQuotaResult>(payload);
      lines.push({ ...base, fact: 'quota.allocation.changed', vdcId: r.vdcId, domainId: r.domainId, pool: r.pool, quantities: r.billed ?? r.quota, start: new Date(r.appliedAt) });
    } else if (type === 'applyLeaseQuota') {
      const r = defaultPayloadConverter.fromPayload<LeaseApplyResult>(payload);
      openLease = { ...base, fact: 'quota.lease', vdcId: r.vdcId, domainId: r.domainId, pool: r.pool, quantities: r.delta, start: new Date(r.appliedAt) };
      lines.push(openLease);
    } else if (openLease) {
      openLease.end = new Date(defaultPayloadConverter.fromPayload<LeaseRevertResult>(payload).revertedAt);
      openLease = undefined;
    }
  }
  // Workload requests (deploy / upgrade / rollback, day-2 operations): `ledger-workloads.ts`; standalone volumes: `ledger-volumes.ts`.
  lines.push(...workloadLedgerLines(workflowId, history), ...volumeLedgerLines(workflowId, history));
  // Image storage (`ledger-images.ts`) and joined nodes (`ledger-node-join.ts`), so verify rebuilds them too.
  lines.push(...imageStorageLedgerLines(workflowId, history), ...nodeJoinLedgerLines(workflowId, history));
  return lines;
}
