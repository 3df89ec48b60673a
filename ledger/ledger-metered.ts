import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ledgerLineId } from '../store/ledger.ts';
import type { Store } from '../store/index.ts';
import type { LedgerLine } from '../common/billing.ts';

type History = temporal.api.history.v1.IHistory;
type Line = Omit<LedgerLine, 'createdAt'>;
/** The provenance of a line: its workflow run and the ActivityTaskCompleted event it derives from. */
export type Provenance = Pick<Line, '_id' | 'workflowId' | 'runId' | 'eventId'>;

/**
 * The `metered` facts of one workflow run: each completed activity named in `activities` whose result carries
 * `metered`, with the provenance of its completion event (keyed like every ledger line). Pure and
 * deterministic, so the writers and `verifyLedger` derive the same lines from the same history.
 */
export function meteredFacts<F>(workflowId: string, history: History, activities: ReadonlySet<string>): { provenance: Provenance; fact: F }[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const scheduled = new Set<number>();
  const out: { provenance: Provenance; fact: F }[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    const name = ev.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name && activities.has(name)) scheduled.add(eventId);
    const completed = ev.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(Number(completed.scheduledEventId ?? 0))) continue;
    const payload = completed.result?.payloads?.[0];
    const fact = payload ? defaultPayloadConverter.fromPayload<{ metered?: F } | null | undefined>(payload)?.metered : undefined;
    if (fact) out.push({ provenance: { _id: ledgerLineId(workflowId, runId, eventId), workflowId, runId, eventId }, fact });
  }
  return out;
}

/**
 * A ledger writer activity: fetches the calling run's own history, derives its lines with `derive` and upserts
 * them (idempotent on the provenance key), so a rebuild from history yields the same lines.
 */
export function historyLedgerWriter(deps: { temporal: Client; store: Store }, derive: (workflowId: string, history: History) => Line[]) {
  return async (args: { workflowId: string }): Promise<{ lineIds: string[] }> => {
    const history = await deps.temporal.workflow.getHandle(args.workflowId).fetchHistory();
    const lines = derive(args.workflowId, history);
    for (const line of lines) await deps.store.ledger.upsert(line);
    return { lineIds: lines.map((l) => l._id) };
  };
}
