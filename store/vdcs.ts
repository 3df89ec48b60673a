import type { MonthlyBudget } from '../common/budget.ts';
import type { ActiveLease } from '../common/quota-lease-workflow.ts';
import type { VdcProvisioning } from '../common/tenancy.ts';
import type { Quota } from '../common/tickets.ts';
import type { Models, VdcDoc } from './models.ts';

export function vdcStore(models: Models) {
  const { Vdc } = models;
  return {
    get(id: string): Promise<VdcDoc | null> {
      return Vdc.findById(id).lean<VdcDoc>();
    },
    /** The VDC whose first namespace is `namespace` (activities that only know the namespace). */
    byNamespace(namespace: string): Promise<VdcDoc | null> {
      return Vdc.findOne({ namespace }).lean<VdcDoc>();
    },
    /** The VDC owning `namespace`: its first namespace, a further pool's namespace or an application space. */
    byAnyNamespace(namespace: string): Promise<VdcDoc | null> {
      return Vdc.findOne({ $or: [{ namespace }, { 'placements.namespace': namespace }, { 'spaces.namespace': namespace }] }).lean<VdcDoc>();
    },
    list(ids: string[] | 'all'): Promise<VdcDoc[]> {
      return Vdc.find(ids === 'all' ? {} : { _id: { $in: ids } })
        .sort({ _id: 1 })
        .lean<VdcDoc[]>();
    },
    /**
     * Sets the VDC's recorded quota on one of its pools (merged per resource; absent or the primary pool: the
     * VDC's `quota`); idempotent.
     */
    async setQuota(id: string, quota: Quota, pool?: string): Promise<void> {
      const vdc = pool === undefined ? undefined : await Vdc.findById(id, { pool: 1 }).lean<Pick<VdcDoc, 'pool'>>();
      const onPlacement = pool !== undefined && vdc !== null && vdc !== undefined && vdc.pool !== pool;
      const prefix = onPlacement ? 'placements.$.quota' : 'quota';
      const set = Object.fromEntries(
        Object.entries(quota)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [`${prefix}.${k}`, v]),
      );
      await Vdc.updateOne(onPlacement ? { _id: id, 'placements.pool': pool } : { _id: id }, { $set: set });
    },
    /**
     * Records the VDC's provisioning state; false when there is no such VDC (or, with `unlessDeleting`, when it is
     * being deleted: a reconcile pass finishing after a delete request must not take the VDC out of `deleting`).
     */
    async setProvisioning(id: string, provisioning: VdcProvisioning, opts: { unlessDeleting?: boolean } = {}): Promise<boolean> {
      const set = provisioning.reason ? { provisioning } : { provisioning: { state: provisioning.state, at: provisioning.at } };
      const filter = opts.unlessDeleting ? { _id: id, 'provisioning.state': { $ne: 'deleting' as const } } : { _id: id };
      return (await Vdc.updateOne(filter, { $set: { ...set, ...(provisioning.state === 'ready' ? { namespaceStatus: 'active' } : {}) } })).matchedCount === 1;
    },
    /** The VDCs placed on a pool (primary or further), sorted by id. */
    onPool(poolId: string): Promise<VdcDoc[]> {
      return Vdc.find({ $or: [{ pool: poolId }, { 'placements.pool': poolId }] })
        .sort({ _id: 1 })
        .lean<VdcDoc[]>();
    },
    /** Sets (or with null removes) the VDC's monthly budget; false when there is no such VDC. */
    async setBudget(id: string, budget: MonthlyBudget | null): Promise<boolean> {
      const update = budget ? { $set: { monthlyBudget: { amount: budget.amount, currency: budget.currency } } } : { $unset: { monthlyBudget: 1 } };
      return (await Vdc.updateOne({ _id: id }, update)).matchedCount === 1;
    },
    /** Replaces the VDC's billing labels; false when there is no such VDC. */
    async setLabels(id: string, labels: Record<string, string>): Promise<boolean> {
      const list = Object.keys(labels)
        .sort()
        .map((key) => ({ key, value: labels[key]! }));
      return (await Vdc.updateOne({ _id: id }, list.length ? { $set: { labels: list } } : { $unset: { labels: 1 } })).matchedCount === 1;
    },
    /** Ids of the VDCs carrying label `key=value`, sorted. */
    async withLabel(key: string, value: string): Promise<string[]> {
      return (
        await Vdc.find({ labels: { $elemMatch: { key, value } } }, { _id: 1 })
          .sort({ _id: 1 })
          .lean<Pick<VdcDoc, '_id'>[]>()
      ).map((v) => v._id);
    },
    /** Records a lease in force; idempotent on the lease's ticket id. */
    async addLease(id: string, lease: ActiveLease): Promise<void> {
      await Vdc.updateOne({ _id: id, 'leases.ticketId': { $ne: lease.ticketId } }, { $push: { leases: lease } });
    },
    /** Forgets a lease once reverted; idempotent. */
    async removeLease(id: string, ticketId: string): Promise<void> {
      await Vdc.updateOne({ _id: id }, { $pull: { leases: { ticketId } } });
    },
    async upsert(vdc: VdcDoc): Promise<void> {
      await Vdc.updateOne({ _id: vdc._id }, { $set: vdc }, { upsert: true });
    },
    /** Inserts a new VDC; false when the id is taken. */
    async create(vdc: VdcDoc): Promise<boolean> {
      try {
        await Vdc.create(vdc);
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    },
    async remove(id: string): Promise<boolean> {
      return (await Vdc.deleteOne({ _id: id })).deletedCount === 1;
    },
    listInDomain(domainId: string): Promise<VdcDoc[]> {
      return Vdc.find({ domainId }).sort({ _id: 1 }).lean<VdcDoc[]>();
    },
    /** VDC counts per domain id. */
    async countByDomain(): Promise<Map<string, number>> {
      const rows = await Vdc.find({}, { domainId: 1 }).lean<Pick<VdcDoc, '_id' | 'domainId'>[]>();
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.domainId, (counts.get(r.domainId) ?? 0) + 1);
      return counts;
    },
  };
}
export type VdcStore = ReturnType<typeof vdcStore>;
