import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { IMAGE_STORAGE_SAMPLE_ACTIVITY, type ImageStorageSample } from '../common/image-storage-metering.ts';
import { ledgerLineId } from '../store/ledger.ts';
import type { LedgerLine } from '../common/billing.ts';

type History = temporal.api.history.v1.IHistory;

export const IMAGE_STORAGE_UNITS = { imageStorageGi: 'GiB' } as const;

/**
 * Derives the `image.storage` lines of one workflow run from its history: each completed
 * `measureVdcImageStorage` activity with a sample (a VDC holding bytes) is one line billing its GiB over the
 * sample's interval; provenance = the ActivityTaskCompleted event, keyed like every other ledger line.
 * Pure: the same history always yields the same lines (used by the writer and by verify).
 */
export function imageStorageLedgerLines(workflowId: string, history: History): Omit<LedgerLine, 'createdAt'>[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const scheduled = new Set<number>();
  const lines: Omit<LedgerLine, 'createdAt'>[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    if (ev.activityTaskScheduledEventAttributes?.activityType?.name === IMAGE_STORAGE_SAMPLE_ACTIVITY) scheduled.add(eventId);
    const completed = ev.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(Number(completed.scheduledEventId ?? 0))) continue;
    const payload = completed.result?.payloads?.[0];
    if (!payload) continue;
    const s = defaultPayloadConverter.fromPayload<ImageStorageSample | null>(payload);
    if (!s || s.bytes <= 0) continue;
    lines.push({
      _id: ledgerLineId(workflowId, runId, eventId),
      workflowId,
      runId,
      eventId,
      fact: 'image.storage',
      vdcId: s.vdcId,
      domainId: s.domainId,
      pool: s.pool,
      subject: `${s.bytes} bytes`,
      quantities: { imageStorageGi: s.imageStorageGi },
      units: { ...IMAGE_STORAGE_UNITS },
      start: new Date(s.start),
      end: new Date(s.end),
    });
  }
  return lines;
}
