import { isOwnedVolume, volumeBytes, type WorkloadKind, type WorkloadSpec } from '../../common/workload.ts';
import { parseQuantity } from '../../infra/kube/quantity.ts';
import { SPACE_CONTAINER_DEFAULTS } from '../../infra/kube/space.ts';
import { meteredExtractor, type LedgerExtractors } from './history.ts';

/** The ledger fact of a workload's requests (cpu, memory of its running pods; storage of the claims it owns). */
export const WORKLOAD_REQUESTS_FACT = 'workload.requests';
export const WORKLOAD_UNITS = { cpu: 'core', memoryGi: 'GiB', storageGi: 'GiB' } as const;

/**
 * What one workload requests from `at` on, recorded in an activity result (so in workflow history, so the
 * ledger can be rebuilt from it). Zero quantities close the workload's line chain (stopped, deleted).
 */
export interface WorkloadMeteringFact {
  vdcId: string;
  domainId: string;
  pool: string;
  namespace: string;
  name: string;
  kind: WorkloadKind;
  /** Cores and GiB requested by the pods kept running (Deployment / StatefulSet: replicas, HPA: its maximum; Job / CronJob: 0). */
  cpu: number;
  memoryGi: number;
  /** GiB of the PersistentVolumeClaims the workload owns, StatefulSet claim templates × replicas (0 once deleted). */
  storageGi: number;
  at: string;
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/**
 * The requests of a recorded spec as billed: cpu and memory of the replicas a Deployment or StatefulSet
 * keeps running (its HPA's maximum when it has one, as the quota reserves it; a Job or CronJob runs now and
 * then and is not billed for cpu/memory), storage of every claim it owns. Pure.
 */
export function workloadMeteredQuantities(spec: WorkloadSpec): { cpu: number; memoryGi: number; storageGi: number } {
  const running = spec.kind === 'Deployment' || spec.kind === 'StatefulSet' ? (spec.hpa ? spec.hpa.maxReplicas : spec.replicas) : 0;
  let cpu = 0;
  let mem = 0;
  for (const c of spec.containers) {
    cpu += parseQuantity(c.requests?.cpu ?? SPACE_CONTAINER_DEFAULTS.defaultRequest.cpu);
    mem += parseQuantity(c.requests?.memory ?? SPACE_CONTAINER_DEFAULTS.defaultRequest.memory);
  }
  // A StatefulSet's claim templates: one claim per running replica (claims kept after a scale-down are not counted).
  const templates = (spec.volumeClaimTemplates ?? []).reduce((sum, t) => sum + volumeBytes(t.size), 0) * (spec.kind === 'StatefulSet' ? running : 0);
  const storage = (spec.volumes ?? []).filter(isOwnedVolume).reduce((sum, v) => sum + volumeBytes(v.size), 0) + templates;
  return { cpu: round6(cpu * running), memoryGi: round6((mem * running) / 2 ** 30), storageGi: round6(storage / 2 ** 30) };
}

/** The fact for a workload whose recorded spec is `spec` (null: deleted) from `at`. */
export function workloadMeteringFact(
  vdc: { id: string; domainId: string; pool?: string | undefined },
  w: { namespace: string; name: string; kind: WorkloadKind },
  spec: WorkloadSpec | null,
  at: string,
): WorkloadMeteringFact {
  const q = spec ? workloadMeteredQuantities(spec) : { cpu: 0, memoryGi: 0, storageGi: 0 };
  return { vdcId: vdc.id, domainId: vdc.domainId, pool: vdc.pool ?? '', namespace: w.namespace, name: w.name, kind: w.kind, ...q, at };
}

/**
 * The `workload.requests` fact: each completed `recordWorkload` (deploy / upgrade / rollback) or
 * `executeWorkloadOperation` (day-2 operation, ticket or direct) whose result carries `metered` is one line,
 * subject `namespace/name`, open-ended: a report bills it until the next line of the same VDC, pool and
 * subject (like `quota.allocation.changed` per pool).
 */
const workloadLine = meteredExtractor<WorkloadMeteringFact>((f, provenance) => ({
  ...provenance,
  fact: WORKLOAD_REQUESTS_FACT,
  vdcId: f.vdcId,
  domainId: f.domainId,
  pool: f.pool,
  subject: `${f.namespace}/${f.name}`,
  quantities: { cpu: f.cpu, memoryGi: f.memoryGi, storageGi: f.storageGi },
  units: { ...WORKLOAD_UNITS },
  start: new Date(f.at),
}));
export const WORKLOAD_EXTRACTORS: LedgerExtractors = { recordWorkload: workloadLine, executeWorkloadOperation: workloadLine };
