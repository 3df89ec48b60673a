import { Schema, type Connection, type Model } from 'mongoose';
import type { ConfigKind, SecretType } from '../common/config-items.ts';
import type { SealedSecret } from './credentials.ts';

/** One key of a stored item: its size (and for a ConfigMap whether the value is binary). */
export interface StoredKey {
  key: string;
  size: number;
  binary?: boolean;
}

/** What one revision of an item holds. A Secret's values exist only sealed (`sealed`: JSON key → base64). */
export interface ConfigContent {
  type?: SecretType;
  /** ConfigMap text values. */
  data?: Record<string, string>;
  /** ConfigMap binary values (base64). */
  binaryData?: Record<string, string>;
  /** Secret values, sealed with the credentials cipher; AAD = {@link configItemAad}. */
  sealed?: SealedSecret;
  keys: StoredKey[];
  updatedAt: string;
  updatedBy: { sub: string; name: string };
}

/**
 * A ConfigMap or Secret of a VDC namespace, id `<namespace>/<kind>/<name>`. `state` is `pending` while
 * the revision is being applied to the cluster and `deleting` while it is being deleted there; `previous`
 * keeps the last applied content until the change is confirmed, so a refused change is rolled back.
 */
export interface ConfigItemDoc extends ConfigContent {
  _id: string;
  vdcId: string;
  namespace: string;
  space?: string;
  kind: ConfigKind;
  name: string;
  revision: number;
  state: 'pending' | 'applied' | 'deleting';
  /** When the current change began (a change left unfinished by a crashed API expires after {@link STUCK_MS}). */
  changingSince?: string;
  previous?: ConfigContent & { revision: number };
  createdAt: string;
}

/** An item as the API sees it: never the sealed values. */
export type ConfigItemRecord = Omit<ConfigItemDoc, 'sealed' | 'previous'>;

export const CONFIG_ITEMS_COLLECTION = 'configitems';
export const configItemId = (namespace: string, kind: ConfigKind, name: string): string => `${namespace}/${kind}/${name}`;
/** Additional authenticated data of a Secret's sealed values: binds the ciphertext to the record's identity. */
export const configItemAad = (namespace: string, name: string): string => `edgeport/secret/${namespace}/${name}`;
/** A change not confirmed within this time (the API died mid-change) no longer blocks the next one. */
const STUCK_MS = 5 * 60_000;
const NO_SECRETS = { sealed: 0, previous: 0 } as const;

function model(conn: Connection): Model<ConfigItemDoc> {
  const existing = conn.models.ConfigItem as Model<ConfigItemDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<ConfigItemDoc>(
    {
      _id: String,
      vdcId: { type: String, required: true, index: true },
      namespace: { type: String, required: true, index: true },
      space: String,
      kind: { type: String, required: true },
      name: { type: String, required: true },
      type: String,
      data: Schema.Types.Mixed,
      binaryData: Schema.Types.Mixed,
      sealed: Schema.Types.Mixed,
      keys: { type: Schema.Types.Mixed, default: [] },
      revision: { type: Number, required: true },
      state: { type: String, required: true },
      changingSince: String,
      previous: Schema.Types.Mixed,
      createdAt: { type: String, required: true },
      updatedAt: { type: String, required: true },
      updatedBy: { type: { sub: String, name: String }, _id: false },
    },
    { versionKey: false, collection: CONFIG_ITEMS_COLLECTION, minimize: false },
  );
  return conn.model<ConfigItemDoc>('ConfigItem', schema);
}

const contentOf = (d: ConfigContent): ConfigContent => ({
  ...(d.type ? { type: d.type } : {}),
  ...(d.data ? { data: d.data } : {}),
  ...(d.binaryData ? { binaryData: d.binaryData } : {}),
  ...(d.sealed ? { sealed: d.sealed } : {}),
  keys: d.keys,
  updatedAt: d.updatedAt,
  updatedBy: d.updatedBy,
});

const CONTENT_FIELDS = { type: 1, data: 1, binaryData: 1, sealed: 1 } as const;
const settled = () => ({ $or: [{ state: 'applied' as const }, { changingSince: { $lt: new Date(Date.now() - STUCK_MS).toISOString() } }] });

/** Data access for the config center; plain objects out, sealed values only from `sealedValues`. */
export function configItemStore(conn: Connection) {
  const Item = model(conn);
  return {
    init: async (): Promise<void> => void (await Item.init()),

    list(namespace: string): Promise<ConfigItemRecord[]> {
      return Item.find({ namespace }, NO_SECRETS).sort({ kind: 1, name: 1 }).lean<ConfigItemRecord[]>();
    },

    /** Items of every namespace of the VDC (delete checks, the portal's "all spaces" view). */
    listVdc(vdcId: string): Promise<ConfigItemRecord[]> {
      return Item.find({ vdcId }, NO_SECRETS).sort({ namespace: 1, kind: 1, name: 1 }).lean<ConfigItemRecord[]>();
    },

    get(namespace: string, kind: ConfigKind, name: string): Promise<ConfigItemRecord | null> {
      return Item.findById(configItemId(namespace, kind, name), NO_SECRETS).lean<ConfigItemRecord>();
    },

    /** The whole record including sealed values: for the worker's apply activity only. */
    withValues(id: string): Promise<ConfigItemDoc | null> {
      return Item.findById(id).lean<ConfigItemDoc>();
    },

    /** Stores a new item in `pending` at revision 1; false when the name is taken in the namespace. */
    async insertPending(item: Omit<ConfigItemDoc, '_id' | 'revision' | 'state' | 'changingSince' | 'previous' | 'createdAt'>): Promise<boolean> {
      try {
        const now = new Date().toISOString();
        await Item.create({
          ...item,
          _id: configItemId(item.namespace, item.kind, item.name),
          revision: 1,
          state: 'pending',
          changingSince: now,
          createdAt: now,
        });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    },

    /**
     * Replaces the content of a settled item with a new pending revision, keeping the applied content as
     * `previous`. Returns the new revision, or undefined when the item is absent or another change runs.
     */
    async replacePending(id: string, content: ConfigContent): Promise<number | undefined> {
      const doc = await Item.findOne({ _id: id, ...settled() }).lean<ConfigItemDoc>();
      if (!doc) return undefined;
      const unset = Object.fromEntries(
        Object.keys(CONTENT_FIELDS)
          .filter((k) => !(k in content))
          .map((k) => [k, 1]),
      );
      const r = await Item.updateOne(
        { _id: id, revision: doc.revision },
        {
          $set: {
            ...content,
            revision: doc.revision + 1,
            state: 'pending',
            changingSince: new Date().toISOString(),
            previous: { ...contentOf(doc), revision: doc.revision },
          },
          ...(Object.keys(unset).length ? { $unset: unset } : {}),
        },
      );
      return r.modifiedCount === 1 ? doc.revision + 1 : undefined;
    },

    /** The cluster has the revision: it becomes the applied content. */
    async markApplied(id: string, revision: number): Promise<void> {
      await Item.updateOne({ _id: id, revision }, { $set: { state: 'applied' }, $unset: { previous: 1, changingSince: 1 } });
    },

    /**
     * The cluster refused (or may not have) the revision: a replace goes back to the previous content, a
     * create is removed. Only the given revision is rolled back (idempotent).
     */
    async rollback(id: string, revision: number): Promise<void> {
      const doc = await Item.findOne({ _id: id, revision }).lean<ConfigItemDoc>();
      if (!doc) return;
      if (!doc.previous) {
        await Item.deleteOne({ _id: id, revision });
        return;
      }
      const { revision: prevRevision, ...prev } = doc.previous;
      const unset = Object.fromEntries([...Object.keys(CONTENT_FIELDS).filter((k) => !(k in prev)), 'previous', 'changingSince'].map((k) => [k, 1]));
      await Item.updateOne({ _id: id, revision }, { $set: { ...prev, revision: prevRevision, state: 'applied' }, $unset: unset });
    },

    /** Marks a settled item `deleting` (one change at a time); its revision, or undefined when absent / busy. */
    async markDeleting(id: string): Promise<number | undefined> {
      const doc = await Item.findOneAndUpdate(
        { _id: id, ...settled() },
        { $set: { state: 'deleting', changingSince: new Date().toISOString() } },
        { projection: { revision: 1 } },
      ).lean<{ revision: number }>();
      return doc?.revision;
    },

    /** The delete did not happen: the item is applied again. */
    async unmarkDeleting(id: string, revision: number): Promise<void> {
      await Item.updateOne({ _id: id, revision, state: 'deleting' }, { $set: { state: 'applied' }, $unset: { changingSince: 1 } });
    },

    async remove(id: string, revision: number): Promise<void> {
      await Item.deleteOne({ _id: id, revision });
    },

    /** Whether an item exists (any state) — used to tell "absent" from "busy". */
    async exists(id: string): Promise<boolean> {
      return (await Item.exists({ _id: id })) !== null;
    },
  };
}
export type ConfigItemStore = ReturnType<typeof configItemStore>;
