import { Schema, type Connection, type Model } from 'mongoose';
import type { WorkloadRecord, WorkloadRevision } from '../common/workload.ts';

/** A recorded workload: id `<namespace>/<name>` (a namespace belongs to exactly one VDC). */
interface WorkloadDoc extends WorkloadRecord {
  _id: string;
}

export const WORKLOADS_COLLECTION = 'workloads';
const idOf = (namespace: string, name: string): string => `${namespace}/${name}`;

function model(conn: Connection): Model<WorkloadDoc> {
  const existing = conn.models.Workload as Model<WorkloadDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<WorkloadDoc>(
    {
      _id: String,
      vdcId: { type: String, required: true, index: true },
      namespace: { type: String, required: true },
      name: { type: String, required: true },
      kind: { type: String, required: true },
      revision: { type: Number, required: true },
      spec: { type: Schema.Types.Mixed, required: true },
      revisions: { type: Schema.Types.Mixed, default: [] },
      ticketId: { type: String, required: true },
      updatedAt: { type: String, required: true },
    },
    { versionKey: false, collection: WORKLOADS_COLLECTION, minimize: false },
  );
  return conn.model<WorkloadDoc>('Workload', schema);
}

const plain = ({ _id, ...rest }: WorkloadDoc): WorkloadRecord => {
  void _id;
  return rest;
};

/** Data access for the workloads of VDCs (the spec and revision history of each); plain objects out. */
export function workloadStore(conn: Connection) {
  const Workload = model(conn);
  return {
    init: async (): Promise<void> => void (await Workload.init()),

    async list(vdcId: string): Promise<WorkloadRecord[]> {
      return (await Workload.find({ vdcId }).sort({ _id: 1 }).lean<WorkloadDoc[]>()).map(plain);
    },

    async get(namespace: string, name: string): Promise<WorkloadRecord | null> {
      const doc = await Workload.findById(idOf(namespace, name)).lean<WorkloadDoc>();
      return doc ? plain(doc) : null;
    },

    /**
     * Records a rolled-out revision as current and appends it to the history. Idempotent per ticket: a
     * retry finds the revision already recorded by this ticket and changes nothing.
     */
    async recordRevision(w: Omit<WorkloadRecord, 'revisions' | 'updatedAt'>): Promise<void> {
      const rev: WorkloadRevision = { revision: w.revision, ticketId: w.ticketId, spec: w.spec, at: new Date().toISOString() };
      await Workload.updateOne(
        { _id: idOf(w.namespace, w.name), 'revisions.ticketId': { $ne: w.ticketId } },
        {
          $set: {
            vdcId: w.vdcId,
            namespace: w.namespace,
            name: w.name,
            kind: w.kind,
            revision: w.revision,
            spec: w.spec,
            ticketId: w.ticketId,
            updatedAt: rev.at,
          },
          $push: { revisions: rev },
        },
        { upsert: true },
      ).catch((err: unknown) => {
        // The upsert collides with the existing id when this ticket's revision is already recorded.
        if ((err as { code?: number }).code !== 11000) throw err;
      });
    },

    /**
     * Day-2 operations (scale, stop, start, access): replaces the current spec in place, without a new
     * revision (the pod template is unchanged, so nothing rolls out); the history keeps the deployed specs.
     * Setting the same spec again changes nothing (idempotent).
     */
    async setCurrentSpec(namespace: string, name: string, spec: WorkloadRecord['spec']): Promise<void> {
      await Workload.updateOne({ _id: idOf(namespace, name) }, { $set: { spec, updatedAt: new Date().toISOString() } });
    },

    /** Removes the workload record (its objects were deleted by a day-2 `delete`); absent = done. */
    async remove(namespace: string, name: string): Promise<void> {
      await Workload.deleteOne({ _id: idOf(namespace, name) });
    },

    /** Removes the revision a ticket recorded (compensation); the workload record goes when no revision is left. */
    async removeRevision(namespace: string, name: string, ticketId: string): Promise<void> {
      const doc = await Workload.findById(idOf(namespace, name)).lean<WorkloadDoc>();
      if (!doc || !doc.revisions.some((r) => r.ticketId === ticketId)) return;
      const left = doc.revisions.filter((r) => r.ticketId !== ticketId);
      const last = left[left.length - 1];
      if (!last) {
        await Workload.deleteOne({ _id: doc._id });
        return;
      }
      await Workload.updateOne(
        { _id: doc._id },
        { $set: { revisions: left, revision: last.revision, spec: last.spec, ticketId: last.ticketId, updatedAt: new Date().toISOString() } },
      );
    },
  };
}
export type WorkloadStore = ReturnType<typeof workloadStore>;
