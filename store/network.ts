import { Schema, type Connection, type Model } from 'mongoose';
import type { SecurityGroup, SpaceNetworkDefault } from '../common/network.ts';

interface GroupDoc extends Omit<SecurityGroup, 'id'> {
  _id: string;
}

interface SpaceDefaultDoc {
  /** `<vdcId>/<space>` */
  _id: string;
  vdcId: string;
  space: string;
  namespace: string;
  policy: SpaceNetworkDefault;
  updatedAt: string;
}

export const SECURITY_GROUPS_COLLECTION = 'security_groups';
export const SPACE_NETWORK_DEFAULTS_COLLECTION = 'space_network_defaults';

function models(conn: Connection): { Group: Model<GroupDoc>; SpaceDefault: Model<SpaceDefaultDoc> } {
  const Group =
    (conn.models.SecurityGroup as Model<GroupDoc> | undefined) ??
    conn.model<GroupDoc>(
      'SecurityGroup',
      new Schema<GroupDoc>(
        {
          _id: String,
          vdcId: { type: String, required: true, index: true },
          name: { type: String, required: true },
          description: String,
          rules: { type: Schema.Types.Mixed, default: [] },
          members: { type: Schema.Types.Mixed, default: [] },
          revision: { type: Number, required: true },
          createdAt: { type: String, required: true },
          updatedAt: { type: String, required: true },
        },
        { versionKey: false, collection: SECURITY_GROUPS_COLLECTION, minimize: false },
      ).index({ vdcId: 1, name: 1 }, { unique: true }),
    );
  const SpaceDefault =
    (conn.models.SpaceNetworkDefault as Model<SpaceDefaultDoc> | undefined) ??
    conn.model<SpaceDefaultDoc>(
      'SpaceNetworkDefault',
      new Schema<SpaceDefaultDoc>(
        {
          _id: String,
          vdcId: { type: String, required: true, index: true },
          space: { type: String, required: true },
          namespace: { type: String, required: true },
          policy: { type: String, required: true },
          updatedAt: { type: String, required: true },
        },
        { versionKey: false, collection: SPACE_NETWORK_DEFAULTS_COLLECTION },
      ),
    );
  return { Group, SpaceDefault };
}

const plain = ({ _id, ...rest }: GroupDoc): SecurityGroup => ({ id: _id, ...rest });

/**
 * Security groups and space network defaults of VDCs; plain objects out. Group writes are conditional on
 * the revision read (optimistic concurrency), so a change and the rollback of another never interleave.
 */
export function networkStore(conn: Connection) {
  const { Group, SpaceDefault } = models(conn);
  return {
    init: async (): Promise<void> => void (await Promise.all([Group.init(), SpaceDefault.init()])),

    async list(vdcId: string): Promise<SecurityGroup[]> {
      return (await Group.find({ vdcId }).sort({ name: 1 }).lean<GroupDoc[]>()).map(plain);
    },

    async get(id: string): Promise<SecurityGroup | null> {
      const doc = await Group.findById(id).lean<GroupDoc>();
      return doc ? plain(doc) : null;
    },

    /** Inserts a new group; false when the VDC already has a group of that name. */
    async insert(g: SecurityGroup): Promise<boolean> {
      const { id, ...rest } = g;
      try {
        await Group.create({ _id: id, ...rest });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    },

    /** Replaces the group if it is still at `revision`; false when someone changed (or deleted) it meanwhile. */
    async replace(g: SecurityGroup, revision: number): Promise<boolean> {
      const { id, ...rest } = g;
      return (await Group.replaceOne({ _id: id, revision }, rest)).matchedCount === 1;
    },

    /** Deletes the group if still at `revision` (any revision when omitted). */
    async remove(id: string, revision?: number): Promise<boolean> {
      return (await Group.deleteOne({ _id: id, ...(revision !== undefined ? { revision } : {}) })).deletedCount === 1;
    },

    async listDefaults(vdcId: string): Promise<{ space: string; namespace: string; policy: SpaceNetworkDefault }[]> {
      const docs = await SpaceDefault.find({ vdcId }).sort({ space: 1 }).lean<SpaceDefaultDoc[]>();
      return docs.map((d) => ({ space: d.space, namespace: d.namespace, policy: d.policy }));
    },

    /** Sets a space's default; `allow-all` (Kubernetes' own) removes the record. */
    async setDefault(vdcId: string, space: string, namespace: string, policy: SpaceNetworkDefault): Promise<void> {
      const _id = `${vdcId}/${space}`;
      if (policy === 'allow-all') await SpaceDefault.deleteOne({ _id });
      else await SpaceDefault.updateOne({ _id }, { $set: { vdcId, space, namespace, policy, updatedAt: new Date().toISOString() } }, { upsert: true });
    },
  };
}
export type NetworkStore = ReturnType<typeof networkStore>;
