import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ledgerLineId } from '../../store/ledger.ts';
import type { LedgerLine as StoredLedgerLine } from '../../common/billing.ts';

export type History = temporal.api.history.v1.IHistory;
/** A ledger line as derived from history (the store adds `createdAt`). */
export type LedgerLine = Omit<StoredLedgerLine, 'createdAt'>;
/** The provenance of a line: its workflow run and the ActivityTaskCompleted event it derives from. */
export type Provenance = Pick<LedgerLine, '_id' | 'workflowId' | 'runId' | 'eventId'>;

/**
 * Turns the decoded result of one completed activity into ledger lines (usually one, or none when the result
 * carries no billable fact). `run` holds the lines derived so far from the same run, oldest first: an
 * extractor that ends an earlier fact (a lease's revert) sets that line's `end` there and returns none.
 * Pure and deterministic: the writers and `verify` derive the same lines from the same history.
 */
export type LedgerExtractor = (result: unknown, provenance: Provenance, run: LedgerLine[]) => LedgerLine[];

/** Extractors keyed by activity type (the name the worker registers and histories record). */
export type LedgerExtractors = Readonly<Record<string, LedgerExtractor>>;

/**
 * The extractor of an activity whose result carries its fact under `metered` (absent: nothing billable),
 * mapped to one line by `line`.
 */
export function meteredExtractor<F>(line: (fact: F, provenance: Provenance) => LedgerLine): LedgerExtractor {
  return (result, provenance) => {
    const fact = (result as { metered?: F } | null | undefined)?.metered;
    return fact ? [line(fact, provenance)] : [];
  };
}

/**
 * Derives the billable lines of one workflow run from its history, in event order: each completed activity
 * whose type has an extractor in `extractors` is handed its decoded result and the provenance of its
 * ActivityTaskCompleted event (the line id is keyed on it, so a rewrite is idempotent). A completion
 * without a result payload bills nothing.
 */
export function linesFromHistory(workflowId: string, history: History, extractors: LedgerExtractors): LedgerLine[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const scheduled = new Map<number, LedgerExtractor>();
  const lines: LedgerLine[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    const name = ev.activityTaskScheduledEventAttributes?.activityType?.name;
    const extractor = name && Object.hasOwn(extractors, name) ? extractors[name] : undefined;
    if (extractor) scheduled.set(eventId, extractor);
    const completed = ev.activityTaskCompletedEventAttributes;
    const extract = completed ? scheduled.get(Number(completed.scheduledEventId ?? 0)) : undefined;
    const payload = completed?.result?.payloads?.[0];
    if (!extract || !payload) continue;
    const provenance: Provenance = { _id: ledgerLineId(workflowId, runId, eventId), workflowId, runId, eventId };
    lines.push(...extract(defaultPayloadConverter.fromPayload<unknown>(payload), provenance, lines));
  }
  return lines;
}
