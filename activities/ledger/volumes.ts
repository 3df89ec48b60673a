import { volumeBytes } from '../../common/workload.ts';
import { meteredExtractor, type LedgerExtractors } from './history.ts';

/** The ledger fact of a standalone volume (volume API): GiB of the claim, held until the volume's next line. */
export const VOLUME_STORAGE_FACT = 'volume.storage';
export const VOLUME_UNITS = { storageGi: 'GiB' } as const;

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

export function volumeMeteringFact(
  vdc: { id: string; domainId: string; pool?: string | undefined },
  v: { namespace: string; name: string },
  size: string | null,
  at: string,
): VolumeMeteringFact {
  return {
    vdcId: vdc.id,
    domainId: vdc.domainId,
    pool: vdc.pool ?? '',
    namespace: v.namespace,
    name: v.name,
    storageGi: size ? round6(volumeBytes(size) / 2 ** 30) : 0,
    at,
  };
}

/**
 * The `volume.storage` fact: each completed `applyVolume` / `deleteVolume` whose result carries `metered` is
 * one line, subject `namespace/name`, priced as storage GiB-month until the next line of the same volume.
 */
const volumeLine = meteredExtractor<VolumeMeteringFact>((f, provenance) => ({
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
export const VOLUME_EXTRACTORS: LedgerExtractors = { applyVolume: volumeLine, deleteVolume: volumeLine };
