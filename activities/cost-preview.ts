import { edgeNodeCostPreview, noCostPreview, resourceCostPreview } from '../common/budget.ts';
import { ANY, costPreview, type CostPreview } from '../common/billing.ts';
import type { Quota } from '../common/tickets.ts';
import type { WorkloadSpec } from '../common/workload.ts';
import { workloadMeteredQuantities } from './ledger/workloads.ts';
import type { Store } from '../store/index.ts';

/**
 * Prices a ticket's change for its preview, under the price book in force now (the version is named in the
 * result). Used inside preflight activities, so the cost is computed once, recorded in the activity result
 * (workflow history) and projected onto the ticket with the rest of the preview. Read-only; a Mongo fault
 * is a plain error and the preflight is retried.
 */
export function costPreviewer(store: Pick<Store, 'priceBooks'>) {
  const book = store.priceBooks;
  return {
    /** Monthly cost delta of replacing `current` by `requested` (per resource named) in `pool`. */
    async quota(pool: string | undefined, current: Quota, requested: Quota, at = new Date()): Promise<CostPreview> {
      return costPreview({ current, proposed: requested, pool: pool ?? ANY, versions: await book.list(), at });
    },
    /** Monthly cost of one more edge node in `pool`. */
    async edgeNode(pool: string, arch: string | undefined, at = new Date()): Promise<CostPreview> {
      return edgeNodeCostPreview({ pool, ...(arch ? { arch } : {}), versions: await book.list(), at });
    },
    /**
     * Monthly cost delta of a workload deploy, upgrade or rollback: the storage of the volumes it owns
     * (billed as storage GiB-month). Its cpu/memory requests are held inside the VDC's quota, which is
     * billed already, so they cost nothing more here.
     */
    async workload(pool: string | undefined, before: WorkloadSpec | undefined, after: WorkloadSpec, at = new Date()): Promise<CostPreview> {
      const storage = (s: WorkloadSpec | undefined) => (s ? workloadMeteredQuantities(s).storageGi : 0);
      return resourceCostPreview({
        changes: [{ resource: 'storage', current: storage(before), proposed: storage(after) }],
        pool: pool ?? ANY,
        versions: await book.list(),
        at,
      });
    },
    /** A change without billable facts; names the price book in force. */
    async none(at = new Date()): Promise<CostPreview> {
      return noCostPreview(await book.list(), at);
    },
  };
}
