import type { Quota } from '../common/tickets.ts';
import type { Models, VdcDoc } from './models.ts';

export function vdcStore(models: Models) {
  const { Vdc } = models;
  return {
    get(id: string): Promise<VdcDoc | null> {
      return Vdc.findById(id).lean<VdcDoc>();
    },
    list(ids: string[] | 'all'): Promise<VdcDoc[]> {
      return Vdc.find(ids === 'all' ? {} : { _id: { $in: ids } }).sort({ _id: 1 }).lean<VdcDoc[]>();
    },
    /** Sets the VDC's recorded quota (merged per resource); idempotent. */
    async setQuota(id: string, quota: Quota): Promise<void> {
      const set = Object.fromEntries(Object.entries(quota).filter(([, v]) => v !== undefined).map(([k, v]) => [`quota.${k}`, v]));
      await Vdc.updateOne({ _id: id }, { $set: set });
    },
    async upsert(vdc: VdcDoc): Promise<void> {
      await Vdc.updateOne({ _id: vdc._id }, { $set: vdc }, { upsert: true });
    },
  };
}
export type VdcStore = ReturnType<typeof vdcStore>;
