import { Schema, type Connection, type Model } from 'mongoose';
import type { Actor } from '../common/roles.ts';

/** An approver's delegation of their approval steps to another user for a period. */
export interface DelegationDoc {
  _id: string;
  delegator: Actor;
  delegate: Actor;
  from: Date;
  until: Date;
  reason?: string;
  createdAt: Date;
}

/** Plain values out, never a mongoose document. */
export type DelegationRecord = Omit<DelegationDoc, '_id'> & { id: string };

/** `reason` is stored as null when a replacing PUT drops it; the record leaves it out. */
const toRecord = ({ _id, reason, ...rest }: DelegationDoc): DelegationRecord => ({ id: _id, ...rest, ...(reason ? { reason } : {}) });

function model(conn: Connection): Model<DelegationDoc> {
  const existing = conn.models.Delegation as Model<DelegationDoc> | undefined;
  if (existing) return existing;
  const actor = { sub: { type: String, required: true }, name: { type: String, required: true } };
  const schema = new Schema<DelegationDoc>(
    {
      _id: String,
      delegator: { type: actor, _id: false },
      delegate: { type: actor, _id: false },
      from: { type: Date, required: true },
      until: { type: Date, required: true },
      reason: String,
      createdAt: { type: Date, required: true },
    },
    { versionKey: false, collection: 'delegations' },
  );
  schema.index({ 'delegator.sub': 1, 'delegate.sub': 1 }, { unique: true });
  schema.index({ 'delegate.sub': 1, until: 1 });
  return conn.model<DelegationDoc>('Delegation', schema);
}

/** Data access for delegations (collection `delegations`). */
export function delegationStore(conn: Connection) {
  const Delegation = model(conn);
  return {
    init: async (): Promise<void> => void (await Delegation.init()),
    /** Creates or replaces the period of the delegation from `doc.delegator` to `doc.delegate` (one per pair). */
    async put(doc: DelegationDoc): Promise<{ record: DelegationRecord; created: boolean }> {
      const { _id, ...rest } = doc;
      const before = await Delegation.findOneAndUpdate(
        { 'delegator.sub': { $eq: doc.delegator.sub }, 'delegate.sub': { $eq: doc.delegate.sub } },
        {
          $set: {
            delegator: rest.delegator,
            delegate: rest.delegate,
            from: rest.from,
            until: rest.until,
            reason: rest.reason ?? null,
            createdAt: rest.createdAt,
          },
          $setOnInsert: { _id },
        },
        { upsert: true, new: false },
      ).lean<DelegationDoc>();
      const after = await Delegation.findOne({ 'delegator.sub': { $eq: doc.delegator.sub }, 'delegate.sub': { $eq: doc.delegate.sub } }).lean<DelegationDoc>();
      if (!after) throw new Error('delegation vanished after upsert');
      return { record: toRecord(after), created: before === null };
    },
    /** Delegations the user gave or received, newest first. */
    async listFor(sub: string): Promise<DelegationRecord[]> {
      const docs = await Delegation.find({ $or: [{ 'delegator.sub': { $eq: sub } }, { 'delegate.sub': { $eq: sub } }] })
        .sort({ createdAt: -1 })
        .lean<DelegationDoc[]>();
      return docs.map(toRecord);
    },
    /** Delegations in force at `at` that let `delegateSub` act for someone. */
    async activeFor(delegateSub: string, at: Date): Promise<DelegationRecord[]> {
      const docs = await Delegation.find({ 'delegate.sub': { $eq: delegateSub }, from: { $lte: at }, until: { $gt: at } }).lean<DelegationDoc[]>();
      return docs.map(toRecord);
    },
    /** Deletes the delegator's own delegation; the deleted record, or null when it is not theirs. */
    async remove(id: string, delegatorSub: string): Promise<DelegationRecord | null> {
      const d = await Delegation.findOneAndDelete({ _id: { $eq: id }, 'delegator.sub': { $eq: delegatorSub } }).lean<DelegationDoc>();
      return d ? toRecord(d) : null;
    },
  };
}
export type DelegationStore = ReturnType<typeof delegationStore>;
