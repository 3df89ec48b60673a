import { Schema, type Connection, type Model } from 'mongoose';
import type { Permission } from '../common/permissions.ts';
import type { Scope } from '../common/roles.ts';

/** An API token at rest: only the SHA-256 of the token and a short display prefix, never the token. */
export interface ApiTokenDoc {
  _id: string;
  userSub: string;
  name: string;
  /** Hex SHA-256 of the whole token; unique. */
  hash: string;
  prefix: string;
  permissions: Permission[];
  /**
   * Scopes of the creator's bindings that held one of `permissions` when the token was made; the token
   * acts only there, so a later promotion of its user does not widen it. Absent on tokens made before.
   */
  scopes?: Scope[];
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What the API gets back: plain values, never a mongoose document. */
export type ApiTokenRecord = Omit<ApiTokenDoc, '_id'> & { id: string };

const toRecord = ({ _id, ...rest }: ApiTokenDoc): ApiTokenRecord => ({ id: _id, ...rest });

function model(conn: Connection): Model<ApiTokenDoc> {
  const existing = conn.models.ApiToken as Model<ApiTokenDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<ApiTokenDoc>(
    {
      _id: String,
      userSub: { type: String, required: true, index: true },
      name: { type: String, required: true },
      hash: { type: String, required: true, unique: true },
      prefix: { type: String, required: true },
      permissions: [String],
      scopes: { type: [Schema.Types.Mixed], default: undefined },
      createdAt: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
      lastUsedAt: { type: Date, default: null },
      revokedAt: { type: Date, default: null },
    },
    { versionKey: false, collection: 'apitokens' },
  );
  return conn.model<ApiTokenDoc>('ApiToken', schema);
}

export function apiTokenStore(conn: Connection) {
  const ApiToken = model(conn);
  return {
    /** Resolves once the indexes (unique hash) exist. */
    init: async (): Promise<void> => void (await ApiToken.init()),
    async create(doc: ApiTokenDoc): Promise<ApiTokenRecord> {
      await ApiToken.create(doc);
      return toRecord(doc);
    },
    async byHash(hash: string): Promise<ApiTokenRecord | null> {
      const d = await ApiToken.findOne({ hash: { $eq: hash } }).lean<ApiTokenDoc>();
      return d ? toRecord(d) : null;
    },
    async listByUser(userSub: string): Promise<ApiTokenRecord[]> {
      const docs = await ApiToken.find({ userSub: { $eq: userSub } })
        .sort({ createdAt: -1 })
        .lean<ApiTokenDoc[]>();
      return docs.map(toRecord);
    },
    countActive(userSub: string, now: Date): Promise<number> {
      return ApiToken.countDocuments({ userSub: { $eq: userSub }, revokedAt: null, expiresAt: { $gt: now } });
    },
    /** Marks the user's token revoked; 'missing' when it is not theirs, 'already' when it was revoked before. */
    async revoke(id: string, userSub: string, at: Date): Promise<'revoked' | 'already' | 'missing'> {
      const r = await ApiToken.updateOne({ _id: { $eq: id }, userSub: { $eq: userSub }, revokedAt: null }, { $set: { revokedAt: at } });
      if (r.modifiedCount === 1) return 'revoked';
      return (await ApiToken.exists({ _id: { $eq: id }, userSub: { $eq: userSub } })) ? 'already' : 'missing';
    },
    /** Sets lastUsedAt unless it was set after `notBefore` (one write per token per interval). */
    async touch(id: string, at: Date, notBefore: Date): Promise<void> {
      await ApiToken.updateOne({ _id: { $eq: id }, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: notBefore } }] }, { $set: { lastUsedAt: at } });
    },
  };
}
export type ApiTokenStore = ReturnType<typeof apiTokenStore>;
