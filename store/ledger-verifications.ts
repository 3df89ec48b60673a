import { Schema, type Connection, type Model } from 'mongoose';

/** One stored run of the scheduled ledger verify: the counts and the first differences it found. */
export interface LedgerVerification {
  /** The BullMQ job id of the run (a retried run overwrites its own record). */
  id: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  workflowsScanned: number;
  rebuiltLines: number;
  storedLines: number;
  differenceCount: number;
  /** At most {@link MAX_STORED_DIFFERENCES}; `differenceCount` says how many there were. */
  differences: unknown[];
}

interface LedgerVerificationDoc extends Omit<LedgerVerification, 'id'> {
  _id: string;
}

export const LEDGER_VERIFICATIONS_COLLECTION = 'ledger_verifications';
export const MAX_STORED_DIFFERENCES = 100;
/** Runs kept; older ones are removed when a new one is recorded. */
const KEEP_RUNS = 200;

function model(conn: Connection): Model<LedgerVerificationDoc> {
  const existing = conn.models.LedgerVerification as Model<LedgerVerificationDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<LedgerVerificationDoc>(
    {
      _id: String,
      startedAt: { type: String, required: true, index: true },
      finishedAt: { type: String, required: true },
      ok: { type: Boolean, required: true },
      workflowsScanned: Number,
      rebuiltLines: Number,
      storedLines: Number,
      differenceCount: Number,
      differences: { type: [Schema.Types.Mixed], default: [] },
    },
    { versionKey: false, collection: LEDGER_VERIFICATIONS_COLLECTION, minimize: false },
  );
  return conn.model<LedgerVerificationDoc>('LedgerVerification', schema);
}

const plain = ({ _id, ...rest }: LedgerVerificationDoc): LedgerVerification => ({ id: _id, ...rest });

/** The results of scheduled ledger verify runs, newest first. */
export function ledgerVerificationStore(conn: Connection) {
  const Run = model(conn);
  return {
    init: async (): Promise<void> => void (await Run.init()),
    async record(run: LedgerVerification): Promise<void> {
      const { id, ...rest } = run;
      await Run.updateOne({ _id: id }, { $set: { ...rest, differences: rest.differences.slice(0, MAX_STORED_DIFFERENCES) } }, { upsert: true });
      const old = await Run.find({}, { _id: 1 }).sort({ startedAt: -1 }).skip(KEEP_RUNS).lean<{ _id: string }[]>();
      if (old.length) await Run.deleteMany({ _id: { $in: old.map((o) => o._id) } });
    },
    async list(limit: number): Promise<LedgerVerification[]> {
      return (await Run.find({}).sort({ startedAt: -1 }).limit(limit).lean<LedgerVerificationDoc[]>()).map(plain);
    },
  };
}
export type LedgerVerificationStore = ReturnType<typeof ledgerVerificationStore>;
