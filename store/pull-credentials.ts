import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { PULL_CREDENTIAL_PREFIX } from '../common/pull-credentials.ts';
import type { CredentialCipher, SealedSecret } from './credentials.ts';

/**
 * A VDC's local-registry pull credential at rest (see `common/pull-credentials.ts`): the SHA-256 of the secret
 * (what the token service checks) and the secret sealed with the credentials key (what the worker writes into the
 * VDC's pull Secrets). `_id` is the VDC id; one credential per VDC.
 */
export interface PullCredentialDoc {
  _id: string;
  /** Hex SHA-256 of the whole secret. */
  hash: string;
  sealed: SealedSecret;
  /** Id of the rotation request that made this secret (`initial` for the first one): a retried rotation is not a second one. */
  rotationId: string;
  createdAt: Date;
  rotatedAt: Date;
}

export const PULL_CREDENTIALS_COLLECTION = 'vdc_pull_credentials';
/** Additional authenticated data of a VDC's sealed pull credential: binds the ciphertext to the VDC. */
export const pullCredentialAad = (vdcId: string): string => `edgeport/pull-credential/${vdcId}`;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function model(conn: Connection): Model<PullCredentialDoc> {
  const existing = conn.models.PullCredential as Model<PullCredentialDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<PullCredentialDoc>(
    {
      _id: String,
      hash: { type: String, required: true },
      sealed: { type: Schema.Types.Mixed, required: true },
      rotationId: { type: String, required: true },
      createdAt: Date,
      rotatedAt: Date,
    },
    { versionKey: false, collection: PULL_CREDENTIALS_COLLECTION },
  );
  return conn.model<PullCredentialDoc>('PullCredential', schema);
}

/** A new random secret, its hash and its sealed form (the plaintext leaves this function only sealed). */
function newSecret(vdcId: string, cipher: CredentialCipher): Pick<PullCredentialDoc, 'hash' | 'sealed'> {
  const secret = `${PULL_CREDENTIAL_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { hash: sha256(secret), sealed: cipher.seal(secret, pullCredentialAad(vdcId)) };
}

export function pullCredentialStore(conn: Connection) {
  const P = model(conn);
  return {
    /**
     * Makes the VDC's credential unless it has one (atomic: of two racing callers one inserts, the other keeps it).
     * Returns whether this call made it.
     */
    async ensure(vdcId: string, cipher: CredentialCipher): Promise<{ created: boolean }> {
      const now = new Date();
      try {
        const res = await P.updateOne(
          { _id: vdcId },
          { $setOnInsert: { ...newSecret(vdcId, cipher), rotationId: 'initial', createdAt: now, rotatedAt: now } },
          { upsert: true },
        );
        return { created: res.upsertedCount === 1 };
      } catch (err) {
        // Two upserts racing on one _id: the loser's insert is a duplicate key; the winner's credential stands.
        if ((err as { code?: number }).code === 11000) return { created: false };
        throw err;
      }
    },

    /**
     * Replaces the VDC's secret with a new one for rotation `rotationId`, unless that rotation already happened
     * (a retried activity rotates once). The old secret stops working at once. Makes one when there is none.
     */
    async rotate(vdcId: string, rotationId: string, cipher: CredentialCipher): Promise<{ rotated: boolean }> {
      const now = new Date();
      const res = await P.updateOne({ _id: vdcId, rotationId: { $ne: rotationId } }, { $set: { ...newSecret(vdcId, cipher), rotationId, rotatedAt: now } });
      if (res.modifiedCount === 1) return { rotated: true };
      const created = await P.updateOne(
        { _id: vdcId },
        { $setOnInsert: { ...newSecret(vdcId, cipher), rotationId, createdAt: now, rotatedAt: now } },
        { upsert: true },
      );
      return { rotated: created.upsertedCount === 1 };
    },

    /** The secret in clear, for writing it into the VDC's Secrets (worker only). Null when the VDC has none. */
    async open(vdcId: string, cipher: CredentialCipher): Promise<{ secret: string; rotationId: string; rotatedAt: Date } | null> {
      const doc = await P.findById(vdcId).lean<PullCredentialDoc>();
      if (!doc) return null;
      return { secret: cipher.open(doc.sealed, pullCredentialAad(vdcId)), rotationId: doc.rotationId, rotatedAt: doc.rotatedAt };
    },

    /** Whether `secret` is the VDC's current credential (constant-time compare of the hashes). */
    async verify(vdcId: string, secret: string): Promise<boolean> {
      if (!secret.startsWith(PULL_CREDENTIAL_PREFIX)) return false;
      const doc = await P.findById(vdcId, { hash: 1 }).lean<Pick<PullCredentialDoc, 'hash'>>();
      if (!doc) return false;
      const a = Buffer.from(doc.hash, 'hex');
      const b = Buffer.from(sha256(secret), 'hex');
      return a.length === b.length && timingSafeEqual(a, b);
    },

    /** Metadata only (when it was made and last rotated). */
    async info(vdcId: string): Promise<{ rotationId: string; createdAt: Date; rotatedAt: Date } | null> {
      return P.findById(vdcId, { rotationId: 1, createdAt: 1, rotatedAt: 1 }).lean<{ rotationId: string; createdAt: Date; rotatedAt: Date }>();
    },

    /** Forgets the VDC's credential (the VDC is deleted); idempotent. */
    async remove(vdcId: string): Promise<boolean> {
      return (await P.deleteOne({ _id: vdcId })).deletedCount === 1;
    },
  };
}
export type PullCredentialStore = ReturnType<typeof pullCredentialStore>;
