import type { VdcSpace } from '../common/tickets.ts';
import type { Models } from './models.ts';

/**
 * The application spaces recorded on a VDC document (`spaces` array). Every write is idempotent, so the
 * space workflow's activities can retry them freely.
 */
export function spaceStore(models: Models) {
  const { Vdc } = models;
  return {
    async list(vdcId: string): Promise<VdcSpace[]> {
      const vdc = await Vdc.findById(vdcId, { spaces: 1 }).lean<{ spaces?: VdcSpace[] }>();
      return vdc?.spaces ?? [];
    },

    /**
     * Records the space (or overwrites the entry of the same name). False when the VDC is gone.
     * Two steps (replace in place, else append where absent), each atomic, so a retry never duplicates it.
     */
    async record(vdcId: string, space: VdcSpace): Promise<boolean> {
      const replaced = await Vdc.updateOne({ _id: vdcId, 'spaces.name': space.name }, { $set: { 'spaces.$': space } });
      if (replaced.matchedCount === 1) return true;
      const added = await Vdc.updateOne({ _id: vdcId, 'spaces.name': { $ne: space.name } }, { $push: { spaces: space } });
      if (added.matchedCount === 1) return true;
      return (await Vdc.countDocuments({ _id: vdcId, 'spaces.name': space.name })) === 1;
    },

    async setStatus(vdcId: string, name: string, status: VdcSpace['status']): Promise<boolean> {
      return (await Vdc.updateOne({ _id: vdcId, 'spaces.name': name }, { $set: { 'spaces.$.status': status } })).matchedCount === 1;
    },

    /** Removes the space's entry; with `ticketId`, only the entry that ticket created (a compensation never removes another's). */
    async remove(vdcId: string, name: string, ticketId?: string): Promise<void> {
      await Vdc.updateOne({ _id: vdcId }, { $pull: { spaces: ticketId ? { name, ticketId } : { name } } });
    },
  };
}
export type SpaceStore = ReturnType<typeof spaceStore>;
