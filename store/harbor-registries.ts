import { Schema, type Connection, type Model } from 'mongoose';
import type { Actor } from '../common/roles.ts';
import type { SealedSecret } from './credentials.ts';

/** A connected third-party Harbor. `secret` is sealed (see `store/credentials.ts`); nothing else is secret. */
interface HarborRegistryDoc {
  _id: string;
  name: string;
  url: string;
  username: string;
  secret: SealedSecret;
  /** `checking` until the save check succeeded; a failed check removes the record. */
  status: 'checking' | 'connected';
  projectCount?: number;
  checkedAt?: Date;
  checkMs?: number;
  createdBy: Actor;
  createdAt: Date;
  updatedAt: Date;
}

/** A registry as the rest of the code sees it: never the sealed secret. */
export type HarborRegistryRecord = Omit<HarborRegistryDoc, 'secret'>;
export type NewHarborRegistry = Pick<HarborRegistryDoc, '_id' | 'name' | 'url' | 'username' | 'secret' | 'createdBy'>;

export const HARBOR_REGISTRIES_COLLECTION = 'harbor_registries';
/** Additional authenticated data of a registry's sealed secret: binds the ciphertext to its registry id. */
export const harborRegistrySecretAad = (id: string): string => `edgeport/harbor-registry/${id}`;
const NO_SECRET = { secret: 0 } as const;

function model(conn: Connection): Model<HarborRegistryDoc> {
  const existing = conn.models.HarborRegistry as Model<HarborRegistryDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<HarborRegistryDoc>(
    {
      _id: String,
      name: { type: String, required: true },
      url: { type: String, required: true },
      username: { type: String, required: true },
      secret: { type: Schema.Types.Mixed, required: true },
      status: { type: String, required: true },
      projectCount: Number,
      checkedAt: Date,
      checkMs: Number,
      createdBy: { type: { sub: String, name: String }, _id: false },
    },
    { versionKey: false, timestamps: true, collection: HARBOR_REGISTRIES_COLLECTION },
  );
  return conn.model<HarborRegistryDoc>('HarborRegistry', schema);
}

/** Data access for third-party Harbor registries; the sealed secret only from `sealed`. */
export function harborRegistryStore(conn: Connection) {
  const R = model(conn);
  return {
    init: async (): Promise<void> => void (await R.init()),
    /** Inserts a registry in `checking`; false when the id is taken. */
    async insert(doc: NewHarborRegistry): Promise<boolean> {
      try {
        await R.create({ ...doc, status: 'checking' });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    },
    /** Connected registries (those still being checked are not listed), by name. */
    async list(): Promise<HarborRegistryRecord[]> {
      return R.find({ status: 'connected' }, NO_SECRET).sort({ name: 1, _id: 1 }).lean<HarborRegistryRecord[]>();
    },
    async get(id: string): Promise<HarborRegistryRecord | null> {
      return R.findById(id, NO_SECRET).lean<HarborRegistryRecord>();
    },
    /** The connection settings and the sealed secret (for the worker's activities only). */
    async sealed(id: string): Promise<Pick<HarborRegistryDoc, '_id' | 'url' | 'username' | 'secret'> | null> {
      return R.findById(id, { url: 1, username: 1, secret: 1 }).lean<Pick<HarborRegistryDoc, '_id' | 'url' | 'username' | 'secret'>>();
    },
    async recordCheck(id: string, check: { projectCount: number; checkMs: number; checkedAt: Date }): Promise<void> {
      await R.updateOne({ _id: id }, { $set: { status: 'connected', ...check } });
    },
    /** Removes a registry; false when there was none. */
    async remove(id: string): Promise<boolean> {
      return (await R.deleteOne({ _id: id })).deletedCount === 1;
    },
  };
}
export type HarborRegistryStore = ReturnType<typeof harborRegistryStore>;
