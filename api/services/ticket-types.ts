import type { z } from 'zod';
import type { Actor, Role } from '../../common/roles.ts';
import { APPLICATION_SPACE_WORKFLOW, type ApplicationSpaceInput } from '../../common/space-workflow.ts';
import type { QuotaChangeInput } from '../../common/quota-change-workflow.ts';
import type { TicketWorkflowInput } from '../../common/ticket-workflow.ts';
import {
  QuotaChangeRequestSchema,
  SpaceCreateRequestSchema,
  SpaceDeleteRequestSchema,
  spaceNamespace,
  type PayloadOf,
  type Quota,
  type SubmitTicket,
  type TicketType,
  type VdcSpace,
} from '../../common/tickets.ts';
import { decideQuotaChange } from '../../policies/quota-change.ts';
import { decideSpaceCreate, decideSpaceDelete } from '../../policies/space.ts';
import type { TicketDecision } from '../../policies/types.ts';
import type { TicketDoc } from '../../store/models.ts';

/** What a policy may look at besides the request itself; loaded by the ticket service, never by the policy. */
export interface TicketPolicyContext<P> {
  payload: P;
  requester: Actor;
  /** Roles the requester can act as in approval chains of the ticket's VDC. */
  requesterRoles: readonly Role[];
  vdc: { id: string; domainId: string; quota: Quota; spaces: readonly VdcSpace[] };
}

/** A stored ticket of one type (its payload narrowed to that type's body). */
export type StoredTicket<T extends TicketType> = TicketDoc & { type: T; payload: PayloadOf<T> };

/**
 * Everything the API needs to know about one ticket type. Adding a type: its zod body in
 * `common/tickets.ts` (and in `SubmitTicketSchema`), a pure policy in `policies/`, a workflow registered
 * in `workflows/index.ts` that calls `ticketApproval()`, and one entry here.
 */
export interface TicketTypeDef<T extends TicketType> {
  type: T;
  /** The request body (the member of `SubmitTicketSchema` for this type). */
  schema: z.ZodType<PayloadOf<T>>;
  /** The policy deciding the approval chain at submit time; its version is stored on the ticket. */
  decide(ctx: TicketPolicyContext<PayloadOf<T>>): TicketDecision;
  /** Temporal workflow type started for the ticket (workflow id = ticket id). */
  workflowType: string;
  /** The workflow's input, built from the stored ticket only (the reconciler starts workflows from it too). */
  workflowInput(ticket: StoredTicket<T>): TicketWorkflowInput;
}

/** Input fields every ticket workflow gets from its stored ticket. */
const baseInput = (t: TicketDoc): TicketWorkflowInput => ({
  ticketId: t._id,
  requester: t.requester,
  vdc: t.vdc,
  policy: t.policy,
  approvalTimeoutMs: t.approvalTimeoutMs,
});

/** The ticket-type registry. */
export const TICKET_TYPE_DEFS: { readonly [T in TicketType]: TicketTypeDef<T> } = {
  'quota-change': {
    type: 'quota-change',
    schema: QuotaChangeRequestSchema,
    decide: ({ payload, vdc }) => decideQuotaChange({ current: vdc.quota, requested: payload.quota }),
    workflowType: 'quotaChangeWorkflow',
    workflowInput: (t): QuotaChangeInput => ({ ...baseInput(t), requested: t.payload.quota }),
  },
  'space-create': {
    type: 'space-create',
    schema: SpaceCreateRequestSchema,
    decide: ({ payload, vdc, requesterRoles }) => decideSpaceCreate({ name: payload.name, spaces: vdc.spaces, requesterRoles }),
    workflowType: APPLICATION_SPACE_WORKFLOW,
    workflowInput: (t): ApplicationSpaceInput => ({
      ...baseInput(t),
      action: 'create',
      space: { name: t.payload.name, namespace: spaceNamespace(t.vdc.id, t.payload.name), labels: t.payload.labels ?? {} },
    }),
  },
  'space-delete': {
    type: 'space-delete',
    schema: SpaceDeleteRequestSchema,
    decide: ({ payload, vdc, requesterRoles }) => decideSpaceDelete({ name: payload.name, spaces: vdc.spaces, requesterRoles }),
    workflowType: APPLICATION_SPACE_WORKFLOW,
    workflowInput: (t): ApplicationSpaceInput => ({
      ...baseInput(t),
      action: 'delete',
      space: { name: t.payload.name, namespace: spaceNamespace(t.vdc.id, t.payload.name), labels: {} },
    }),
  },
};

/**
 * The definition of a body's type, typed over the whole union. Sound because `TICKET_TYPE_DEFS` is keyed
 * by type: the entry for `payload.type` takes exactly that payload.
 */
function defOf(type: TicketType): TicketTypeDef<TicketType> {
  return TICKET_TYPE_DEFS[type] as unknown as TicketTypeDef<TicketType>;
}

/** Runs the policy of the body's ticket type. */
export function decideTicket(ctx: TicketPolicyContext<SubmitTicket>): TicketDecision {
  return defOf(ctx.payload.type).decide(ctx);
}

/** Workflow type and input of a stored ticket. */
export function workflowStartOf(t: TicketDoc): { workflowType: string; input: TicketWorkflowInput } {
  const def = defOf(t.type);
  return { workflowType: def.workflowType, input: def.workflowInput(t as StoredTicket<TicketType>) };
}
