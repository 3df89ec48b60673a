import { storageQuotaGi, type Quota } from '../common/tickets.ts';
import { isOwnedVolume, podCount, volumeBytes, type WorkloadSpec } from '../common/workload.ts';

/**
 * Storage is quota: the PersistentVolumeClaims a VDC requests on a pool (standalone volumes, volumes its
 * workloads own, StatefulSet claim templates × replicas) must fit its `storageGi` quota on that pool, the
 * `requests.storage` of its ResourceQuota. Pure: the caller passes the records and the quota in force.
 */

const GI = 2 ** 30;
const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/** GiB of a volume size (`512Mi`, `10Gi`); 0 for a size no schema accepts. */
export const sizeGi = (size: string): number => {
  const b = volumeBytes(size);
  return Number.isFinite(b) ? round6(b / GI) : 0;
};

/**
 * GiB of claims a workload spec requests: the volumes it owns, and a StatefulSet's claim templates once per
 * pod it may run (its HPA's maximum when it has one: the controller makes a claim per ordinal).
 */
export function workloadStorageGi(spec: Pick<WorkloadSpec, 'kind' | 'replicas' | 'hpa' | 'job' | 'volumes' | 'volumeClaimTemplates'>): number {
  const owned = (spec.volumes ?? []).filter(isOwnedVolume).reduce((sum, v) => sum + sizeGi(v.size), 0);
  const templates =
    spec.kind === 'StatefulSet' ? (spec.volumeClaimTemplates ?? []).reduce((sum, t) => sum + sizeGi(t.size), 0) * podCount(spec as WorkloadSpec) : 0;
  return round6(owned + templates);
}

export interface StorageRecords {
  volumes: readonly { namespace: string; name: string; size: string }[];
  workloads: readonly { namespace: string; name: string; spec: WorkloadSpec }[];
}

/**
 * GiB the VDC requests in `namespaces` (those of one pool), leaving out the standalone volume or workload
 * `except` names (`volume <ns>/<name>` / `workload <ns>/<name>`): the one a change replaces.
 */
export function requestedStorageGi(records: StorageRecords, namespaces: ReadonlySet<string>, except?: string): number {
  let sum = 0;
  for (const v of records.volumes) if (namespaces.has(v.namespace) && `volume ${v.namespace}/${v.name}` !== except) sum += sizeGi(v.size);
  for (const w of records.workloads) if (namespaces.has(w.namespace) && `workload ${w.namespace}/${w.name}` !== except) sum += workloadStorageGi(w.spec);
  return round6(sum);
}

/**
 * Why requesting `afterGi` GiB for `what` (in place of what `except` held) does not fit the VDC's storage
 * quota on `pool`, or undefined when it fits. The message names `requests.storage` and the quota.
 */
export function storageQuotaProblem(args: {
  quota: Quota | undefined;
  pool: string;
  records: StorageRecords;
  namespaces: ReadonlySet<string>;
  what: string;
  afterGi: number;
  except?: string;
}): string | undefined {
  const limit = storageQuotaGi(args.quota);
  const others = requestedStorageGi(args.records, args.namespaces, args.except);
  const total = round6(others + args.afterGi);
  if (total <= limit) return undefined;
  return `requests.storage quota ${limit}Gi of this VDC on pool ${args.pool} exceeded: ${args.what} needs ${args.afterGi}Gi, ${others}Gi is requested already (${total}Gi in all); ask for more storage with a quota change`;
}
