import { Schema, type Connection, type Model } from 'mongoose';
import type { PoolAuthType, PoolReaderStatus, PoolStatus, PoolVersion } from '../common/pools.ts';
import type { Actor } from '../common/roles.ts';
import type { SealedSecret } from './credentials.ts';

/**
 * The pool's read-only identity (ServiceAccount `edgeport-reader`, made on the pool by the worker's
 * registration check): `ready` with its token sealed apart from the write credentials (its own AAD), or
 * `unavailable` with the reason (e.g. the registered credentials may not create it).
 */
export interface PoolReaderDoc {
  status: PoolReaderStatus;
  reason?: string;
  credentials?: SealedSecret;
  checkedAt: Date;
}

/** A registered resource pool. `credentials` and `reader.credentials` are sealed (see `store/credentials.ts`); nothing else is secret. */
export interface PoolDoc {
  _id: string;
  name: string;
  server: string;
  authType: PoolAuthType;
  credentials: SealedSecret;
  status: PoolStatus;
  reason?: string;
  version?: PoolVersion;
  checkedAt?: Date;
  checkMs?: number;
  createdBy: Actor;
  /** Set while a delete checks that no VDC uses the pool. */
  deleting?: boolean;
  reader?: PoolReaderDoc;
  createdAt: Date;
  updatedAt: Date;
}

/** A pool as the rest of the code sees it: never the sealed credentials (neither the write nor the reader ones). */
export type PoolRecord = Omit<PoolDoc, 'credentials' | 'deleting' | 'reader'> & { reader?: Omit<PoolReaderDoc, 'credentials'> };

export type NewPool = Omit<PoolDoc, 'status' | 'reason' | 'version' | 'checkedAt' | 'checkMs' | 'deleting' | 'reader' | 'createdAt' | 'updatedAt'>;

export interface PoolCheckRecord {
  status: Exclude<PoolStatus, 'checking'>;
  reason?: string;
  version?: PoolVersion;
  checkMs: number;
  checkedAt: Date;
}

export const POOLS_COLLECTION = 'pools';
/** Additional authenticated data of a pool's sealed credentials: binds the ciphertext to its pool id. */
export const poolCredentialsAad = (poolId: string): string => `edgeport/pool/${poolId}`;
/**
 * AAD of a pool's sealed reader token: distinct from {@link poolCredentialsAad}, so the write credentials
 * copied into the reader field (or the other way round) do not open.
 */
export const poolReaderAad = (poolId: string): string => `edgeport/pool/${poolId}/reader`;
/** The collection of VDC documents (model `Vdc`), whose `pool` field names the pool a VDC lives in. */
const VDCS_COLLECTION = 'vdcs';
const NO_SECRETS = { credentials: 0, deleting: 0, 'reader.credentials': 0 } as const;

function model(conn: Connection): Model<PoolDoc> {
  const existing = conn.models.Pool as Model<PoolDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<PoolDoc>(
    {
      _id: String,
      name: { type: String, required: true },
      server: { type: String, required: true },
      authType: { type: String, required: true },
      credentials: { type: Schema.Types.Mixed, required: true },
      status: { type: String, required: true },
      reason: String,
      version: { type: { gitVersion: String, platform: String }, _id: false },
      checkedAt: Date,
      checkMs: Number,
      createdBy: { type: { sub: String, name: String }, _id: false },
      deleting: Boolean,
      reader: { type: { status: String, reason: String, credentials: Schema.Types.Mixed, checkedAt: Date }, _id: false },
    },
    { versionKey: false, timestamps: true, collection: POOLS_COLLECTION },
  );
  return conn.model<PoolDoc>('Pool', schema);
}

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;

export type PoolRemoval = { removed: true } | { removed: false; reason: 'not-found' | 'busy' } | { removed: false; reason: 'in-use'; vdcs: string[] };

/** Data access for resource pools; returns plain objects, and the sealed credentials only from `sealed`. */
export function poolStore(conn: Connection) {
  const Pool = model(conn);
  return {
    init: async (): Promise<void> => void (await Pool.init()),

    /** Stores a new pool in status `checking`; false when the id is taken. */
    async insert(pool: NewPool): Promise<boolean> {
      try {
        await Pool.create({ ...pool, status: 'checking' });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },

    /** Creates or replaces a pool's definition and credentials (the seed); status goes back to `checking`. */
    async upsert(pool: NewPool): Promise<void> {
      await Pool.updateOne(
        { _id: pool._id },
        { $set: { ...pool, status: 'checking' }, $unset: { reason: 1, version: 1, checkedAt: 1, checkMs: 1, deleting: 1, reader: 1 } },
        { upsert: true },
      );
    },

    get(id: string): Promise<PoolRecord | null> {
      return Pool.findById(id, NO_SECRETS).lean<PoolRecord>();
    },

    list(): Promise<PoolRecord[]> {
      return Pool.find({}, NO_SECRETS).sort({ _id: 1 }).lean<PoolRecord[]>();
    },

    /** The server and sealed credentials, for the worker's activities only. */
    sealed(id: string): Promise<Pick<PoolDoc, '_id' | 'server' | 'credentials'> | null> {
      return Pool.findById(id, { server: 1, credentials: 1 }).lean<Pick<PoolDoc, '_id' | 'server' | 'credentials'>>();
    },

    /**
     * The server and the sealed reader token, for the API's interactive reads only (never the write
     * credentials); null when there is no such pool.
     */
    async readerSealed(id: string): Promise<{ server: string; reader?: PoolReaderDoc } | null> {
      const rec = await Pool.findById(id, { server: 1, reader: 1 }).lean<Pick<PoolDoc, '_id' | 'server' | 'reader'>>();
      return rec ? { server: rec.server, ...(rec.reader ? { reader: rec.reader } : {}) } : null;
    },

    /** Records the pool's reader identity (sealed token, or why there is none); a no-op on a deleted pool. */
    async recordReader(id: string, reader: PoolReaderDoc): Promise<void> {
      await Pool.updateOne({ _id: id }, { $set: { reader } });
    },

    /** Records the outcome of a reachability check; idempotent, and a no-op on a deleted pool. */
    async recordCheck(id: string, check: PoolCheckRecord): Promise<void> {
      const { reason, version, ...rest } = check;
      const unset = { ...(reason === undefined ? { reason: 1 } : {}), ...(version === undefined ? { version: 1 } : {}) };
      await Pool.updateOne(
        { _id: id },
        {
          $set: { ...rest, ...(reason !== undefined ? { reason } : {}), ...(version ? { version } : {}) },
          ...(Object.keys(unset).length ? { $unset: unset } : {}),
        },
      );
    },

    /**
     * Deletes a pool no VDC lives in. The pool is first marked `deleting` (one delete at a time), then the
     * VDCs are counted; a VDC still naming the pool keeps it (and clears the mark).
     */
    async remove(id: string): Promise<PoolRemoval> {
      const marked = await Pool.updateOne({ _id: id, deleting: { $ne: true } }, { $set: { deleting: true } });
      if (marked.matchedCount === 0) {
        return (await Pool.exists({ _id: id })) ? { removed: false, reason: 'busy' } : { removed: false, reason: 'not-found' };
      }
      const users = await conn
        .collection(VDCS_COLLECTION)
        .find({ $or: [{ pool: id }, { 'placements.pool': id }] }, { projection: { _id: 1 } })
        .limit(20)
        .toArray();
      if (users.length > 0) {
        await Pool.updateOne({ _id: id }, { $unset: { deleting: 1 } });
        return { removed: false, reason: 'in-use', vdcs: users.map((v) => String(v._id)) };
      }
      await Pool.deleteOne({ _id: id });
      return { removed: true };
    },
  };
}
export type PoolStore = ReturnType<typeof poolStore>;
