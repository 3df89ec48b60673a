import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { volumeBytes } from '../common/workload.ts';
import { ledgerLineId } from '../store/ledger.ts';
import type { Store } from '../store/index.ts';
import type { LedgerLineDoc } from '../store/models.ts';

type History = temporal.api.history.v1.IHistory;
type Line = Omit<LedgerLineDoc, 'createdAt'>;

/** The ledger fact of a standalone volume (volume API): GiB of the claim, held until the volume's next line. */
export const VOLUME_STORAGE_FACT = 'volume.storage';
export const VOLUME_UNITS = { storageGi: 'GiB' } as const;
/** Activities whose result may carry a {@link VolumeMeteringFact} under `metered`. */
const VOLUME_METERED_ACTIVITIES: ReadonlySet<string> = new Set(['applyVolume', 'deleteVolume']);

/**
 * What one standalone volume holds from `at` on, recorded in the result of the activity that applied or
 * deleted it (so in workflow history, so the ledger can be rebuilt from it). `storageGi` 0 closes the chain.
 */
export interface VolumeMeteringFact {
  vdcId: string;
  domainId: string;
  pool: string;
  namespace: string;
  name: string;
  storageGi: number;
  at: string;
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

export function volumeMeteringFact(vdc: { id: string; domainId: string; pool?: string | undefined }, v: { namespace: string; name: string }, size: string | null, at: string): VolumeMeteringFact {
  return { vdcId: vdc.id, domainId: vdc.domainId, pool: vdc.pool ?? '', namespace: v.namespace, name: v.name, storageGi: size ? round6(volumeBytes(size) / 2 ** 30) : 0, at };
}

/**
 * Derives the `volume.storage` lines of one volume workflow run from its history: each completed
 * `applyVolume` / `deleteVolume` whose result carries `metered` is one line (provenance = its
 * ActivityTaskCompleted event), subject `namespace/name`, priced as storage GiB-month until the next line
 * of the same volume. Pure: used by the writer below and by `verifyLedger` through `ledgerLinesFromHistory`.
 */
export function volumeLedgerLines(workflowId: string, history: History): Line[] {
  const events = history.events ?? [];
  const runId = events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '';
  const scheduled = new Set<number>();
  const lines: Line[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    const name = ev.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name && VOLUME_METERED_ACTIVITIES.has(name)) scheduled.add(eventId);
    const completed = ev.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(Number(completed.scheduledEventId ?? 0))) continue;
    const payload = completed.result?.payloads?.[0];
    const f = payload ? defaultPayloadConverter.fromPayload<{ metered?: VolumeMeteringFact } | null | undefined>(payload)?.metered : undefined;
    if (!f) continue;
    lines.push({
      _id: ledgerLineId(workflowId, runId, eventId),
      workflowId,
      runId,
      eventId,
      fact: VOLUME_STORAGE_FACT,
      vdcId: f.vdcId,
      domainId: f.domainId,
      pool: f.pool,
      subject: `${f.namespace}/${f.name}`,
      quantities: { storageGi: f.storageGi },
      units: { ...VOLUME_UNITS },
      start: new Date(f.at),
    });
  }
  return lines;
}

/** The ledger writer of the volume workflows. */
export function createVolumeLedgerActivities(deps: { temporal: Client; store: Store }) {
  return {
    /** Writes this run's `volume.storage` lines, derived from its own history. Idempotent on the provenance key. */
    async recordVolumeLedger(args: { workflowId: string }): Promise<{ lineIds: string[] }> {
      const history = await deps.temporal.workflow.getHandle(args.workflowId).fetchHistory();
      const lines = volumeLedgerLines(args.workflowId, history);
      for (const line of lines) await deps.store.ledger.upsert(line);
      return { lineIds: lines.map((l) => l._id) };
    },
  };
}
export type VolumeLedgerActivities = ReturnType<typeof createVolumeLedgerActivities>;
