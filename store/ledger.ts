import type { LedgerLineDoc, Models } from './models.ts';

/** Deterministic ledger line id from its provenance; the unique key that makes writes idempotent. */
export const ledgerLineId = (workflowId: string, runId: string, eventId: number): string => `${workflowId}/${runId}/${eventId}`;

export function ledgerStore(models: Models) {
  const { LedgerLine } = models;
  return {
    /**
     * Writes the line once; a retry with the same provenance changes nothing. An `end` (known later,
     * e.g. when a lease reverts) is set on the existing line; it is derived from history, so re-setting it is harmless.
     */
    async upsert(line: Omit<LedgerLineDoc, 'createdAt'>): Promise<void> {
      const { end, ...rest } = line;
      await LedgerLine.updateOne({ _id: line._id }, { $setOnInsert: rest, ...(end ? { $set: { end } } : {}) }, { upsert: true });
    },
    byWorkflow(workflowId: string): Promise<LedgerLineDoc[]> {
      return LedgerLine.find({ workflowId }).sort({ eventId: 1 }).lean<LedgerLineDoc[]>();
    },
    list(vdcIds: string[] | 'all'): Promise<LedgerLineDoc[]> {
      return LedgerLine.find(vdcIds === 'all' ? {} : { vdcId: { $in: vdcIds } }).sort({ start: 1, _id: 1 }).lean<LedgerLineDoc[]>();
    },
  };
}
export type LedgerStore = ReturnType<typeof ledgerStore>;
