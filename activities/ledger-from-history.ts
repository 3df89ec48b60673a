import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ledgerLineId } from '../store/ledger.ts';
import type { LedgerLineDoc } from '../store/models.ts';

/** Result of the `applyQuota` activity; recorded in history, so the ledger can be rebuilt from it. */
export interface ApplyQuotaResult {
  vdcId: string;
  domainId: string;
  pool: string;
  namespace: string;
  /** The full quota in force after the apply (not only the changed resources). */
  quota: { cpu?: number; memoryGi?: number; pods?: number };
  appliedAt: string;
}

export const QUOTA_UNITS = { cpu: 'core', memoryGi: 'GiB', pods: 'pod' } as const;

type History = temporal.api.history.v1.IHistory;

/**
 * Derives the billable facts of one workflow run from its history: each completed `applyQuota`
 * activity is one `quota.allocation.changed` line whose provenance is the ActivityTaskCompleted event.
 * Pure and deterministic: the same history always yields the same lines (used by writes and by verify).
 */
export function ledgerLinesFromHistory(workflowId: string, history: History): Omit<LedgerLineDoc, 'createdAt'>[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const applyScheduled = new Set<number>();
  const lines: Omit<LedgerLineDoc, 'createdAt'>[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    const scheduled = ev.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'applyQuota') applyScheduled.add(eventId);
    const completed = ev.activityTaskCompletedEventAttributes;
    if (completed && applyScheduled.has(Number(completed.scheduledEventId ?? 0))) {
      const payload = completed.result?.payloads?.[0];
      if (!payload) continue;
      const r = defaultPayloadConverter.fromPayload<ApplyQuotaResult>(payload);
      lines.push({
        _id: ledgerLineId(workflowId, runId, eventId),
        workflowId,
        runId,
        eventId,
        fact: 'quota.allocation.changed',
        vdcId: r.vdcId,
        domainId: r.domainId,
        pool: r.pool,
        quantities: r.quota,
        units: { ...QUOTA_UNITS },
        start: new Date(r.appliedAt),
      });
    }
  }
  return lines;
}
