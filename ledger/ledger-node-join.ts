import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { JoinedNodeRecord } from '../common/node-join-workflow.ts';
import { ledgerLineId } from '../store/ledger.ts';
import type { LedgerLine } from '../common/billing.ts';

type History = temporal.api.history.v1.IHistory;

/** Activity whose completion is the billable `node.joined` fact (node-hours are billed from `joinedAt`). */
export const NODE_JOINED_ACTIVITY = 'recordJoinedNode';
export const NODE_UNITS = { nodes: 'node' } as const;

/**
 * Derives the `node.joined` lines of one workflow run from its history: each completed
 * `recordJoinedNode` activity is one line whose provenance is its ActivityTaskCompleted event, keyed the
 * same way as `ledger-from-history.ts`. Pure: the same history always yields the same lines.
 */
export function nodeJoinLedgerLines(workflowId: string, history: History): Omit<LedgerLine, 'createdAt'>[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const scheduled = new Set<number>();
  const lines: Omit<LedgerLine, 'createdAt'>[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    if (ev.activityTaskScheduledEventAttributes?.activityType?.name === NODE_JOINED_ACTIVITY) scheduled.add(eventId);
    const completed = ev.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(Number(completed.scheduledEventId ?? 0))) continue;
    const payload = completed.result?.payloads?.[0];
    if (!payload) continue;
    const r = defaultPayloadConverter.fromPayload<JoinedNodeRecord>(payload);
    lines.push({
      _id: ledgerLineId(workflowId, runId, eventId),
      workflowId,
      runId,
      eventId,
      fact: 'node.joined',
      vdcId: r.vdcId,
      domainId: r.domainId,
      pool: r.pool,
      ...(r.arch ? { arch: r.arch } : {}),
      subject: r.nodeName,
      quantities: { nodes: 1 },
      units: { ...NODE_UNITS },
      start: new Date(r.joinedAt),
    });
  }
  return lines;
}
