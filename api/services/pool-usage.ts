import type { V1ResourceQuota } from '@kubernetes/client-node';
import { QUOTA_NAME, readQuota } from '../../infra/kube/quota.ts';
import { fromResourceList } from '../../infra/kube/quantity.ts';
import { poolOfNamespace, vdcPools, type PoolVdcView, type VdcPoolView, type Vdc } from '../../common/tenancy.ts';
import type { Quota } from '../../common/tickets.ts';
import type { Store } from '../../store/index.ts';
import { NotFoundError } from '../errors.ts';
import type { PoolReaders } from './pool-reads.ts';

export interface PoolUsageDeps {
  store: Store;
  readers: PoolReaders;
}

/** Sum of ResourceQuota `status.used` readings, per resource (rounded as `fromResourceList` rounds). */
function sum(readings: readonly Quota[]): Quota {
  const out: Quota = {};
  for (const q of readings) {
    for (const [k, v] of Object.entries(q) as [keyof Quota, number | undefined][]) if (v !== undefined) out[k] = Math.round(((out[k] ?? 0) + v) * 1000) / 1000;
  }
  return out;
}

/** The VDC's namespaces on one pool: its namespace there and every application space on that pool. */
function namespacesOn(vdc: Vdc, pool: string): string[] {
  const own = vdcPools(vdc)
    .filter((p) => p.pool === pool)
    .map((p) => p.namespace);
  const spaces = (vdc.spaces ?? []).filter((s) => s.status !== 'deleting' && poolOfNamespace(vdc, s.namespace) === pool).map((s) => s.namespace);
  return [...new Set([...own, ...spaces])];
}

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Quota and usage per pool, both ways round: a VDC's pools (quota there + `status.used` of the ResourceQuota
 * of each of its namespaces on that pool, summed), and a pool's VDCs (the same per VDC). Usage is read with
 * the pool's read-only identity; a pool that cannot be read leaves `used` out and says why, the rest still
 * answers. Routes have checked the caller may read the VDC (or the pool) already.
 */
export function poolUsageService(deps: PoolUsageDeps) {
  const { store, readers } = deps;

  async function vdcOf(id: string): Promise<Vdc> {
    const vdc = await store.vdcs.get(id);
    if (!vdc) throw new NotFoundError(`VDC ${id} not found`);
    return vdc;
  }

  return {
    async vdcScope(id: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await vdcOf(id);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    /** Each pool of the VDC (primary first) with its quota there and its usage there. */
    async vdcPools(id: string): Promise<VdcPoolView[]> {
      const vdc = await vdcOf(id);
      return Promise.all(
        vdcPools(vdc).map(async (p): Promise<VdcPoolView> => {
          const namespaces = namespacesOn(vdc, p.pool);
          try {
            const readings = await readers.read(p.pool, 'read quota usage', (kube) => Promise.all(namespaces.map((ns) => readQuota(kube, ns))));
            return { ...p, namespaces, used: sum(readings.filter((r) => r.exists).map((r) => r.used)) };
          } catch (err) {
            return { ...p, namespaces, usageUnavailable: reasonOf(err) };
          }
        }),
      );
    },

    /**
     * The VDCs placed on a pool with their quota there and usage there; one list of Edgeport's
     * ResourceQuotas over the pool serves them all.
     */
    async poolVdcs(poolId: string): Promise<PoolVdcView[]> {
      if (!(await store.pools.get(poolId))) throw new NotFoundError('no such pool');
      const vdcs = await store.vdcs.onPool(poolId);
      let used: Map<string, Quota> | undefined;
      let unavailable: string | undefined;
      try {
        const items = await readers.read(
          poolId,
          'list quota usage',
          async (kube) => (await kube.core.listResourceQuotaForAllNamespaces({ fieldSelector: `metadata.name=${QUOTA_NAME}` })).items,
        );
        used = new Map(items.map((rq: V1ResourceQuota) => [rq.metadata?.namespace ?? '', fromResourceList(rq.status?.used)]));
      } catch (err) {
        unavailable = reasonOf(err);
      }
      return vdcs.map((vdc): PoolVdcView => {
        const namespaces = namespacesOn(vdc, poolId);
        const quota = vdcPools(vdc).find((p) => p.pool === poolId)?.quota ?? {};
        return {
          vdcId: vdc._id,
          name: vdc.name,
          domainId: vdc.domainId,
          primary: vdc.pool === poolId,
          namespaces,
          quota,
          ...(vdc.provisioning ? { provisioning: vdc.provisioning } : {}),
          ...(used ? { used: sum(namespaces.flatMap((ns) => (used.has(ns) ? [used.get(ns)!] : []))) } : { usageUnavailable: unavailable ?? 'not read' }),
        };
      });
    },
  };
}
export type PoolUsageService = ReturnType<typeof poolUsageService>;
