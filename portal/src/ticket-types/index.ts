import { TICKET_TYPES, type SubmitTicket, type TicketType } from '@common/tickets';
import { imagePublish } from './image-publish.ts';
import { nodeJoin } from './node-join.ts';
import { quotaChange } from './quota-change.ts';
import { quotaLease } from './quota-lease.ts';
import { spaceCreate } from './space-create.ts';
import { spaceDelete } from './space-delete.ts';
import type { TicketSummary, TicketTypeEntry } from './types.ts';
import { workloadDeploy } from './workload-deploy.ts';
import { workloadOperation } from './workload-operation.ts';
import { workloadRollback } from './workload-rollback.ts';

export type { TicketPanelProps, TicketPreviewProps, TicketSummary, TicketTypeEntry } from './types.ts';

/**
 * The portal's one list of ticket types: form, TicketDetail summary and panel, preflight preview. The
 * mapped type makes a type in `TICKET_TYPES` without an entry (or an entry for the wrong type) a
 * compile error.
 */
export const TICKET_TYPE_REGISTRY: { readonly [T in TicketType]: TicketTypeEntry<T> } = {
  'quota-change': quotaChange,
  'space-create': spaceCreate,
  'space-delete': spaceDelete,
  'node-join': nodeJoin,
  'quota-lease': quotaLease,
  'workload-deploy': workloadDeploy,
  'workload-rollback': workloadRollback,
  'image-publish': imagePublish,
  'workload-operation': workloadOperation,
};

/** The entry of `type`, typed loosely for callers that hold a type only known at run time. */
export function ticketTypeEntry(type: TicketType): TicketTypeEntry<TicketType> {
  return TICKET_TYPE_REGISTRY[type] as TicketTypeEntry<TicketType>;
}

/** Types with a form on the New request page, in `TICKET_TYPES` order (the chooser's order). */
export const REQUESTABLE_TYPES: readonly TicketType[] = TICKET_TYPES.filter((tt) => TICKET_TYPE_REGISTRY[tt].form !== undefined);

/** What a ticket asks for, by its type's entry. */
export function ticketSummary(payload: SubmitTicket): TicketSummary {
  return (TICKET_TYPE_REGISTRY[payload.type].summary as (p: SubmitTicket) => TicketSummary)(payload);
}
