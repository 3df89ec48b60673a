import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { volumeBytes } from '../common/workload.ts';
import type { Store } from '../store/index.ts';
import type { LedgerLine } from '../common/billing.ts';
import { historyLedgerWriter, meteredFacts } from './ledger-metered.ts';

type History = temporal.api.history.v1.IHistory;
type Line = Omit<LedgerLine, 'createdAt'>;

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
  return meteredFacts<VolumeMeteringFact>(workflowId, history, VOLUME_METERED_ACTIVITIES).map(({ provenance, fact: f }) => ({
    ...provenance,
    fact: VOLUME_STORAGE_FACT,
    vdcId: f.vdcId,
    domainId: f.domainId,
    pool: f.pool,
    subject: `${f.namespace}/${f.name}`,
    quantities: { storageGi: f.storageGi },
    units: { ...VOLUME_UNITS },
    start: new Date(f.at),
  }));
}

/** The ledger writer of the volume workflows. */
export function createVolumeLedgerActivities(deps: { temporal: Client; store: Store }) {
  /** Writes this run's `volume.storage` lines, derived from its own history. Idempotent on the provenance key. */
  return { recordVolumeLedger: historyLedgerWriter(deps, volumeLedgerLines) };
}
export type VolumeLedgerActivities = ReturnType<typeof createVolumeLedgerActivities>;
