import type { DecisionBody, QuotaResource, SubmitTicket, TicketStatus, TicketView, TimelineEntry } from '@common/tickets';
import { http, type RequestOptions } from './http.ts';
import type { JoinStatusView } from '@common/node-join-workflow';

/** `GET /api/tickets/:id` adds whether the caller may decide the current approval step. */
export type TicketDetail = TicketView & { canDecide: boolean };

export type TicketScope = 'mine' | 'inbox' | 'all';

/** Statuses after which nothing changes any more; polling stops there. Mirrors `FINAL_STATUSES` in common. */
export const FINAL_STATUSES = ['completed', 'rejected', 'failed', 'cancelled', 'compensated'] as const satisfies readonly TicketStatus[];

export function isFinal(status: TicketStatus): boolean {
  return (FINAL_STATUSES as readonly TicketStatus[]).includes(status);
}

/** Quota resources in display order. Mirrors `QUOTA_RESOURCES` in common (values from there would pull zod in). */
export const QUOTA_RESOURCES = ['cpu', 'memoryGi', 'pods', 'storageGi'] as const satisfies readonly QuotaResource[];

type Quiet = Pick<RequestOptions, 'quiet'>;

/** Quiet: list views render their own error state. */
export function listTickets(scope: TicketScope, status?: TicketStatus): Promise<{ items: TicketView[] }> {
  return http.get('/api/tickets', { query: { scope, status }, quiet: true });
}

export function getTicket(id: string, options: Quiet = {}): Promise<TicketDetail> {
  return http.get(`/api/tickets/${encodeURIComponent(id)}`, options);
}

/**
 * Submits a ticket. The same `idempotencyKey` replayed returns the ticket made the first time (200),
 * so a double click or a retry after a lost response never makes a second ticket.
 */
export function submitTicket(body: SubmitTicket, idempotencyKey: string): Promise<TicketView> {
  return http.post('/api/tickets', body, { headers: { 'Idempotency-Key': idempotencyKey } });
}

export function decideTicket(id: string, body: DecisionBody): Promise<TicketView> {
  return http.post(`/api/tickets/${encodeURIComponent(id)}/decisions`, body);
}

export function cancelTicket(id: string): Promise<TicketView> {
  return http.post(`/api/tickets/${encodeURIComponent(id)}/cancel`);
}

export function getTimeline(id: string, options: Quiet = {}): Promise<{ items: TimelineEntry[] }> {
  return http.get(`/api/tickets/${encodeURIComponent(id)}/timeline`, options);
}

/** A node-join ticket's token and node state (`GET /api/tickets/:id/join-status`); never the command. */
export function getJoinStatus(id: string, options: Quiet = {}): Promise<JoinStatusView> {
  return http.get(`/api/tickets/${encodeURIComponent(id)}/join-status`, options);
}

/** The one-time join command (`GET /api/tickets/:id/join-command`): a second call answers 410. Quiet: the panel explains. */
export function fetchJoinCommand(
  id: string,
): Promise<{ ticketId: string; nodeName: string; pool: string; tokenId: string; expiresAt: string; command: string }> {
  return http.get(`/api/tickets/${encodeURIComponent(id)}/join-command`, { quiet: true });
}
