import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import type { Actor, RoleBinding, Scope } from '../common/roles.ts';

/**
 * A role binding promised to an email address whose owner has not signed in yet. Applied (and deleted) at
 * that user's first sign-in with a verified email equal to `email`; one document per email × role × scope.
 */
export interface PendingBindingDoc {
  _id: string;
  /** Lower-cased. */
  email: string;
  role: RoleBinding['role'];
  scope: Scope;
  /** `platform`, `domain:<id>` or `vdc:<id>`: the scope as one indexable string. */
  scopeKey: string;
  invitedBy: Actor;
  createdAt: Date;
}

export type PendingBinding = Omit<PendingBindingDoc, '_id'> & { id: string };

export const scopeKeyOf = (s: Scope): string => (s.type === 'platform' ? 'platform' : s.type === 'domain' ? `domain:${s.domainId}` : `vdc:${s.vdcId}`);

function model(conn: Connection): Model<PendingBindingDoc> {
  const existing = conn.models.PendingBinding as Model<PendingBindingDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<PendingBindingDoc>(
    {
      _id: String,
      email: { type: String, required: true },
      role: String,
      scope: Schema.Types.Mixed,
      scopeKey: { type: String, index: true },
      invitedBy: { type: { sub: String, name: String }, _id: false },
      createdAt: Date,
    },
    { versionKey: false, collection: 'pendingbindings' },
  );
  schema.index({ email: 1, role: 1, scopeKey: 1 }, { unique: true });
  return conn.model<PendingBindingDoc>('PendingBinding', schema);
}

const view = (d: PendingBindingDoc): PendingBinding => ({
  id: d._id,
  email: d.email,
  role: d.role,
  scope: d.scope,
  scopeKey: d.scopeKey,
  invitedBy: d.invitedBy,
  createdAt: d.createdAt,
});

/** Pending bindings by email (invitations of users who never signed in). */
export function pendingBindingStore(conn: Connection) {
  const Pending = model(conn);
  return {
    init: async (): Promise<void> => void (await Pending.init()),
    /** Records the binding unless the same one is already pending; true when it was new. */
    async add(email: string, binding: RoleBinding, invitedBy: Actor): Promise<boolean> {
      const scopeKey = scopeKeyOf(binding.scope);
      const r = await Pending.updateOne(
        { email: { $eq: email.toLowerCase() }, role: { $eq: binding.role }, scopeKey: { $eq: scopeKey } },
        {
          $setOnInsert: { _id: randomUUID(), email: email.toLowerCase(), role: binding.role, scope: binding.scope, scopeKey, invitedBy, createdAt: new Date() },
        },
        { upsert: true },
      );
      return r.upsertedCount === 1;
    },
    async forEmail(email: string): Promise<PendingBinding[]> {
      return (
        await Pending.find({ email: { $eq: email.toLowerCase() } })
          .sort({ createdAt: 1 })
          .lean<PendingBindingDoc[]>()
      ).map(view);
    },
    async list(): Promise<PendingBinding[]> {
      return (await Pending.find().sort({ email: 1, createdAt: 1 }).limit(1000).lean<PendingBindingDoc[]>()).map(view);
    },
    async inScope(scope: Scope): Promise<PendingBinding[]> {
      return (
        await Pending.find({ scopeKey: { $eq: scopeKeyOf(scope) } })
          .sort({ email: 1, createdAt: 1 })
          .lean<PendingBindingDoc[]>()
      ).map(view);
    },
    /** Deletes the given pending bindings (by id); how many were still there. */
    async remove(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      return (await Pending.deleteMany({ _id: { $in: [...ids] } })).deletedCount;
    },
    /** Deletes every pending binding of the email in the scope; how many there were. */
    async removeInScope(email: string, scope: Scope): Promise<number> {
      return (await Pending.deleteMany({ email: { $eq: email.toLowerCase() }, scopeKey: { $eq: scopeKeyOf(scope) } })).deletedCount;
    },
    /** Deletes every pending binding scoped to a deleted domain or VDC. */
    async removeScope(scope: Scope): Promise<number> {
      return (await Pending.deleteMany({ scopeKey: { $eq: scopeKeyOf(scope) } })).deletedCount;
    },
  };
}
export type PendingBindingStore = ReturnType<typeof pendingBindingStore>;
