import { FINAL_STATUSES, type TicketStatus, type TicketView } from '../common/tickets.ts';
import type { Models, TicketDoc } from './models.ts';

/** Fields the workflow projects onto the ticket; anything else on the document is the API's. */
export type TicketProjection = Partial<Pick<TicketDoc, 'status' | 'approvals' | 'currentStep' | 'preview' | 'approvalResets' | 'result' | 'error'>>;

export type NewTicket = Omit<TicketDoc, 'projectionSeq' | 'workflowStarted' | 'createdAt' | 'updatedAt'>;

export interface TicketFilter {
  vdcIds?: string[] | 'all';
  requesterSub?: string;
  status?: TicketStatus;
  limit?: number;
}

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;

/** Data access for tickets; returns plain objects, never mongoose documents. */
export function ticketStore(models: Models) {
  const { Ticket } = models;
  return {
    /**
     * Inserts a ticket in `submitted`. With an idempotency key, a replay returns the earlier ticket
     * (`created: false`) instead of a second one, even when two submits race.
     */
    async insertOrGet(ticket: NewTicket): Promise<{ ticket: TicketDoc; created: boolean }> {
      if (ticket.idempotencyKey) {
        const existing = await Ticket.findOne({ 'requester.sub': ticket.requester.sub, idempotencyKey: ticket.idempotencyKey }).lean<TicketDoc>();
        if (existing) return { ticket: existing, created: false };
      }
      try {
        const doc = await Ticket.create({ ...ticket, projectionSeq: 0, workflowStarted: false });
        return { ticket: doc.toObject<TicketDoc>(), created: true };
      } catch (err) {
        if (!isDuplicateKey(err) || !ticket.idempotencyKey) throw err;
        const existing = await Ticket.findOne({ 'requester.sub': ticket.requester.sub, idempotencyKey: ticket.idempotencyKey }).lean<TicketDoc>();
        if (!existing) throw err;
        return { ticket: existing, created: false };
      }
    },

    get(id: string): Promise<TicketDoc | null> {
      return Ticket.findById(id).lean<TicketDoc>();
    },

    /** The requester's ticket submitted with this idempotency key, if any. */
    byIdempotencyKey(requesterSub: string, idempotencyKey: string): Promise<TicketDoc | null> {
      return Ticket.findOne({ 'requester.sub': requesterSub, idempotencyKey }).lean<TicketDoc>();
    },

    list(filter: TicketFilter): Promise<TicketDoc[]> {
      const q: Record<string, unknown> = {};
      if (filter.vdcIds !== undefined && filter.vdcIds !== 'all') q['vdc.id'] = { $in: filter.vdcIds };
      if (filter.requesterSub) q['requester.sub'] = filter.requesterSub;
      if (filter.status) q.status = filter.status;
      return Ticket.find(q)
        .sort({ createdAt: -1 })
        .limit(filter.limit ?? 200)
        .lean<TicketDoc[]>();
    },

    /** Ids of a VDC's tickets that are not final yet (at most `limit`). */
    async openIds(vdcId: string, limit = 20): Promise<string[]> {
      const rows = await Ticket.find({ 'vdc.id': vdcId, status: { $nin: FINAL_STATUSES } }, { _id: 1 })
        .sort({ createdAt: 1 })
        .limit(limit)
        .lean<Pick<TicketDoc, '_id'>[]>();
      return rows.map((r) => r._id);
    },

    /** Deletes a ticket whose workflow was never started (its submit failed before Temporal heard of it). */
    async discardUnstarted(id: string): Promise<void> {
      await Ticket.deleteOne({ _id: id, workflowStarted: false });
    },

    async markWorkflowStarted(id: string): Promise<void> {
      await Ticket.updateOne({ _id: id }, { $set: { workflowStarted: true } });
    },

    /** Tickets whose workflow start was never confirmed and that are older than `olderThan`. */
    listUnstarted(olderThan: Date): Promise<TicketDoc[]> {
      return Ticket.find({ workflowStarted: false, createdAt: { $lt: olderThan } })
        .limit(100)
        .lean<TicketDoc[]>();
    },

    /**
     * Applies a projection from the workflow if `seq` is newer than the last one applied, so a late retry
     * of an older projection never overwrites a newer state. Returns whether it was applied.
     */
    async project(id: string, seq: number, patch: TicketProjection): Promise<boolean> {
      const res = await Ticket.updateOne({ _id: id, projectionSeq: { $lt: seq } }, { $set: { ...patch, projectionSeq: seq, workflowStarted: true } });
      return res.modifiedCount === 1;
    },
  };
}
export type TicketStore = ReturnType<typeof ticketStore>;

export function toTicketView(t: TicketDoc): TicketView {
  return {
    id: t._id,
    type: t.type,
    status: t.status,
    requester: { sub: t.requester.sub, name: t.requester.name },
    vdcId: t.vdc.id,
    vdcName: t.vdc.name,
    domainId: t.vdc.domainId,
    payload: t.payload,
    policy: t.policy,
    approvals: t.approvals,
    currentStep: t.currentStep,
    ...(t.preview ? { preview: t.preview } : {}),
    ...(t.approvalResets?.length ? { approvalResets: t.approvalResets } : {}),
    ...(t.result ? { result: t.result } : {}),
    ...(t.error ? { error: t.error } : {}),
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}
