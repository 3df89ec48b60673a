import { Schema, type Connection, type Model } from 'mongoose';
import type { Actor } from '../common/roles.ts';

/** The platform's IP allow and deny lists: one document. */
export interface IpListsDoc {
  _id: 'platform';
  allow: string[];
  deny: string[];
  updatedAt: Date;
  updatedBy: Actor;
}

export type IpListsRecord = Omit<IpListsDoc, '_id'>;

const ID = 'platform' as const;

function model(conn: Connection): Model<IpListsDoc> {
  const existing = conn.models.IpLists as Model<IpListsDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<IpListsDoc>(
    { _id: String, allow: [String], deny: [String], updatedAt: Date, updatedBy: { type: { sub: String, name: String }, _id: false } },
    { versionKey: false, collection: 'iplists' },
  );
  return conn.model<IpListsDoc>('IpLists', schema);
}

export function ipListStore(conn: Connection) {
  const IpLists = model(conn);
  return {
    init: async (): Promise<void> => void (await IpLists.init()),
    /** The stored lists, or null when none were ever saved (both empty). */
    async get(): Promise<IpListsRecord | null> {
      const d = await IpLists.findById(ID).lean<IpListsDoc>();
      if (!d) return null;
      return { allow: d.allow ?? [], deny: d.deny ?? [], updatedAt: d.updatedAt, updatedBy: d.updatedBy };
    },
    async set(lists: IpListsRecord): Promise<void> {
      await IpLists.updateOne({ _id: ID }, { $set: lists }, { upsert: true });
    },
  };
}
export type IpListStore = ReturnType<typeof ipListStore>;
