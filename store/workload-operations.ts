import { Schema, type Connection, type Model } from 'mongoose';
import type { WorkloadDayTwoState, WorkloadOperationEntry } from '../common/workload-ops.ts';

/** Day-2 state and operation log of one workload, id `<namespace>/<name>` like its workload record. */
interface DayTwoDoc extends WorkloadDayTwoState {
  _id: string;
  vdcId: string;
  operations: WorkloadOperationEntry[];
}

export const WORKLOAD_OPERATIONS_COLLECTION = 'workload_operations';
/** Operations kept per workload (oldest dropped). */
const KEEP = 100;
const idOf = (namespace: string, name: string): string => `${namespace}/${name}`;

function model(conn: Connection): Model<DayTwoDoc> {
  const existing = conn.models.WorkloadDayTwo as Model<DayTwoDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<DayTwoDoc>(
    {
      _id: String,
      vdcId: { type: String, required: true, index: true },
      stoppedReplicas: Number,
      restartedAt: String,
      restartedRevision: Number,
      operations: { type: Schema.Types.Mixed, default: [] },
    },
    { versionKey: false, collection: WORKLOAD_OPERATIONS_COLLECTION, minimize: false },
  );
  return conn.model<DayTwoDoc>('WorkloadDayTwo', schema);
}

/**
 * What Edgeport remembers about a workload after deploy: the replica count before `stop` (what `start`
 * returns to), the last `restart` (kept in the pod template on later applies of the same revision), and
 * the operations done on it. The workload record (store/workloads.ts) holds the current spec.
 */
export function workloadOperationStore(conn: Connection) {
  const DayTwo = model(conn);
  return {
    init: async (): Promise<void> => void (await DayTwo.init()),

    async get(namespace: string, name: string): Promise<WorkloadDayTwoState & { operations: WorkloadOperationEntry[] }> {
      const doc = await DayTwo.findById(idOf(namespace, name)).lean<DayTwoDoc>();
      if (!doc) return { operations: [] };
      const { _id, vdcId, ...rest } = doc;
      void _id;
      void vdcId;
      return rest;
    },

    async listState(vdcId: string): Promise<Map<string, WorkloadDayTwoState>> {
      const docs = await DayTwo.find({ vdcId }, { operations: 0 }).lean<DayTwoDoc[]>();
      return new Map(docs.map(({ _id, vdcId: _v, operations: _o, ...rest }) => [_id, rest]));
    },

    /**
     * Records one operation and the state it leaves (`null` clears a field). Idempotent on the entry id:
     * a retried activity or request records it once.
     */
    async record(
      vdcId: string,
      namespace: string,
      name: string,
      entry: WorkloadOperationEntry,
      state: { [K in keyof WorkloadDayTwoState]?: WorkloadDayTwoState[K] | null },
    ): Promise<void> {
      const set: Record<string, unknown> = { vdcId };
      const unset: Record<string, ''> = {};
      for (const [k, v] of Object.entries(state)) {
        if (v === null) unset[k] = '';
        else if (v !== undefined) set[k] = v;
      }
      await DayTwo.updateOne(
        { _id: idOf(namespace, name), 'operations.id': { $ne: entry.id } },
        { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}), $push: { operations: { $each: [entry], $slice: -KEEP } } },
        { upsert: true },
      ).catch((err: unknown) => {
        // The upsert collides with the existing id when this entry is already recorded.
        if ((err as { code?: number }).code !== 11000) throw err;
      });
    },

    /** Clears the day-2 state after a delete, keeping the operation log (the delete is its last entry). */
    async clearState(namespace: string, name: string): Promise<void> {
      await DayTwo.updateOne({ _id: idOf(namespace, name) }, { $unset: { stoppedReplicas: '', restartedAt: '', restartedRevision: '' } });
    },
  };
}
export type WorkloadOperationStore = ReturnType<typeof workloadOperationStore>;
