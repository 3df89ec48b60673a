import type { WorkflowHandle } from '@temporalio/client';
import type { TicketWorkflowInput } from '../../../common/ticket-workflow.ts';
import type { SubmitTicket, TicketType } from '../../../common/tickets.ts';
import type { TicketDecision } from '../../../policies/types.ts';
import type { Ticket } from '../../../common/tickets.ts';
import { imagePublishDef } from './image-publish.ts';
import type { StoredTicket, TicketContextReaders, TicketExtraContext, TicketPolicyContext, TicketTypeDef, TicketVdcContext } from './kit.ts';
import { nodeJoinDef } from './node-join.ts';
import { quotaChangeDef } from './quota-change.ts';
import { quotaLeaseDef } from './quota-lease.ts';
import { spaceCreateDef } from './space-create.ts';
import { spaceDeleteDef } from './space-delete.ts';
import { workloadDeployDef } from './workload-deploy.ts';
import { workloadOperationDef } from './workload-operation.ts';
import { workloadRollbackDef } from './workload-rollback.ts';

export type { StoredTicket, TicketContextReaders, TicketExtraContext, TicketPolicyContext, TicketTypeDef, TicketVdcContext } from './kit.ts';

/**
 * The ticket-type registry (API half): one definition per type, each in its own file beside this one, its
 * pure half in `common/ticket-types/`. The README lists every file a new type adds.
 */
export const TICKET_TYPE_DEFS: { readonly [T in TicketType]: TicketTypeDef<T> } = {
  'quota-change': quotaChangeDef,
  'quota-lease': quotaLeaseDef,
  'space-create': spaceCreateDef,
  'space-delete': spaceDeleteDef,
  'workload-deploy': workloadDeployDef,
  'workload-rollback': workloadRollbackDef,
  'image-publish': imagePublishDef,
  'workload-operation': workloadOperationDef,
  'node-join': nodeJoinDef,
};

/**
 * The definition of a body's type, typed over the whole union. Sound because `TICKET_TYPE_DEFS` is keyed
 * by type: the entry for `payload.type` takes exactly that payload.
 */
function defOf(type: TicketType): TicketTypeDef<TicketType> {
  return TICKET_TYPE_DEFS[type] as unknown as TicketTypeDef<TicketType>;
}

/** The extra context the body's type needs for its policy (none for most types). */
export async function loadTicketContext(readers: TicketContextReaders, payload: SubmitTicket, vdc: TicketVdcContext): Promise<TicketExtraContext> {
  return (await defOf(payload.type).loadContext?.(readers, payload, vdc)) ?? {};
}

/** The container images a body would run (its type's `images`), or undefined when its type runs none. */
export function imagesOf(payload: SubmitTicket): ReturnType<NonNullable<TicketTypeDef<TicketType>['images']>> | undefined {
  return defOf(payload.type).images?.(payload);
}

/** Runs the policy of the body's ticket type. */
export function decideTicket(ctx: TicketPolicyContext<SubmitTicket>): TicketDecision {
  return defOf(ctx.payload.type).decide(ctx);
}

/** Workflow type and input of a stored ticket. */
export function workflowStartOf(t: Ticket): { workflowType: string; input: TicketWorkflowInput } {
  const def = defOf(t.type);
  return { workflowType: def.workflowType, input: def.workflowInput(t as StoredTicket<TicketType>) };
}

/**
 * Whether an approved ticket is still in its cancel window: its type's window is `until-started` and its
 * workflow has not started executing. Other statuses are the caller's to judge.
 */
export async function approvedButNotStarted(t: Ticket, workflow: () => WorkflowHandle): Promise<boolean> {
  const def = defOf(t.type);
  if (t.status !== 'approved' || def.spec.cancelWindow !== 'until-started' || !def.awaitingStart) return false;
  return def.awaitingStart(workflow());
}
