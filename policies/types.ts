import type { PolicySummary } from '../common/tickets.ts';

/** A policy's answer: the approval chain (or auto-approval) to store on the ticket, or a denial naming the field. */
export type TicketDecision = PolicySummary | { version: string; outcome: 'deny'; reason: string; field: string };
