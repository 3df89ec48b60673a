import type { WorkflowHandle } from '@temporalio/client';
import type { z } from 'zod';
import type { MonthlyBudget, ProjectedCost } from '../../../common/budget.ts';
import type { Actor, Role } from '../../../common/roles.ts';
import type { TicketWorkflowInput } from '../../../common/ticket-workflow.ts';
import type { TicketTypeSpec } from '../../../common/ticket-types/kit.ts';
import type { PayloadOf, Quota, TicketType, VdcSpace } from '../../../common/tickets.ts';
import type { WorkloadRecord } from '../../../common/workload.ts';
import type { TicketDecision } from '../../../policies/types.ts';
import type { StandaloneVolume } from '../../../policies/workload.ts';
import type { Ticket } from '../../../common/tickets.ts';

/** What every policy may look at about the ticket's VDC; loaded by the ticket service from the VDC record. */
export interface TicketVdcContext {
  id: string;
  domainId: string;
  quota: Quota;
  spaces: readonly VdcSpace[];
  /** The VDC's default namespace (workloads without a space go there). */
  namespace?: string;
  /** The resource pool the VDC lives in (its primary pool). */
  pool?: string;
  /** Every pool the VDC lives on, primary first. */
  pools?: readonly string[];
  /** The VDC's monthly budget, when set. */
  monthlyBudget?: MonthlyBudget;
}

/** Context only some types need, loaded by their {@link TicketTypeDef.loadContext}. */
export interface TicketExtraContext {
  /** The VDC's workloads as recorded (the storage rules look at their volumes). */
  workloads?: readonly WorkloadRecord[];
  /** The VDC's standalone volumes (volume API): mountable with `existing: true`, their names taken. */
  volumes?: readonly StandaloneVolume[];
  /** Quota requests: the monthly cost of the VDC's quota after the change under the price book in force. */
  projectedCost?: ProjectedCost;
}

/** What a policy may look at besides the request itself; loaded by the ticket service, never by the policy. */
export interface TicketPolicyContext<P> {
  payload: P;
  requester: Actor;
  /** Roles the requester can act as in approval chains of the ticket's VDC. */
  requesterRoles: readonly Role[];
  vdc: TicketVdcContext & Pick<TicketExtraContext, 'workloads' | 'volumes'>;
  projectedCost?: ProjectedCost;
}

/**
 * Reads a context loader may make, scoped to the ticket's VDC; injected by the ticket service (store and
 * price book), so a definition holds no I/O of its own. Errors are the store's (transient: a 500).
 */
export interface TicketContextReaders {
  workloads(): Promise<readonly WorkloadRecord[]>;
  volumes(): Promise<readonly StandaloneVolume[]>;
  /** Monthly cost of the VDC's quota once `requested` is merged in, under the price book in force now. */
  projectedCost(requested: Quota): Promise<ProjectedCost>;
}

/** A stored ticket of one type (its payload narrowed to that type's body). */
export type StoredTicket<T extends TicketType> = Ticket & { type: T; payload: PayloadOf<T> };

/**
 * The API half of one ticket type: its pure half (`spec`, from `common/ticket-types/`) plus what needs
 * policies, the store's data or Temporal. One object per type, registered in `./index.ts`.
 */
export interface TicketTypeDef<T extends TicketType> {
  spec: TicketTypeSpec<T, z.ZodType<PayloadOf<T>>>;
  /**
   * Loads the context this type's policy needs beyond {@link TicketVdcContext} (workloads and volumes,
   * projected cost…) through the injected readers. Absent: none.
   */
  loadContext?(readers: TicketContextReaders, payload: PayloadOf<T>, vdc: TicketVdcContext): Promise<TicketExtraContext>;
  /** The policy deciding the approval chain at submit time; its version is stored on the ticket. */
  decide(ctx: TicketPolicyContext<PayloadOf<T>>): TicketDecision;
  /** Temporal workflow type started for the ticket (workflow id = ticket id). */
  workflowType: string;
  /** The workflow's input, built from the stored ticket only (the reconciler starts workflows from it too). */
  workflowInput(ticket: StoredTicket<T>): TicketWorkflowInput;
  /**
   * The container images the request would run, checked at submit against the registry as it is now (scan,
   * signature, external-image and, when `arches` is known, architecture rules). Absent: the type runs no images.
   */
  images?(payload: PayloadOf<T>): { containers: readonly { image: string }[]; arches?: readonly string[] };
  /**
   * Types whose cancel window is `until-started`: whether the approved ticket's workflow still waits for its
   * start, asked of the workflow itself (the projection may lag behind the start).
   */
  awaitingStart?(workflow: WorkflowHandle): Promise<boolean>;
}

/** Input fields every ticket workflow gets from its stored ticket. */
export const baseInput = (t: Ticket): TicketWorkflowInput => ({
  ticketId: t._id,
  requester: t.requester,
  vdc: t.vdc,
  policy: t.policy,
  approvalTimeoutMs: t.approvalTimeoutMs,
});
