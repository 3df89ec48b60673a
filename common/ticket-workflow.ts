import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, Role } from './roles.ts';
import type { ApprovalRecord, ApprovalReset, PolicySummary, TicketPreview, TicketStatus } from './tickets.ts';

/**
 * The contract every ticket workflow shares with the API: the decide update, cancel signal and state
 * query (same names for every ticket type, so the API talks to a ticket without knowing its type), and
 * the input fields every workflow receives.
 */

/** The VDC facts a ticket workflow needs, captured at submit time so the workflow never reads Mongo directly. */
export interface VdcRef {
  id: string;
  name: string;
  domainId: string;
  namespace: string;
  pool: string;
}

/** Input fields common to every ticket workflow (the approval mechanics need exactly these). */
export interface TicketWorkflowInput {
  ticketId: string;
  requester: Actor;
  vdc: VdcRef;
  policy: PolicySummary;
  /** How long each approval step may wait before the ticket is rejected as expired. */
  approvalTimeoutMs: number;
}

export interface DecideArgs {
  actor: Actor;
  /** Roles the caller holds for this ticket's VDC, resolved by the API from its role bindings. */
  actorRoles: Role[];
  decision: 'approve' | 'reject';
  comment?: string;
  previewHash?: string;
  /**
   * Set when the caller decides as the delegate of an approver (resolved by the API from an active
   * delegation, only when the caller is not eligible themselves). The validator checks the approver's
   * roles instead of the caller's, and the decision is recorded as made on that approver's behalf.
   */
  onBehalfOf?: DelegatedAuthority;
}

/** An approver whose decisions the caller may make, with the roles that approver holds on the ticket's VDC. */
export interface DelegatedAuthority {
  delegator: Actor;
  roles: Role[];
}

export interface TicketWorkflowState<P extends TicketPreview = TicketPreview> {
  status: TicketStatus;
  currentStep: number | null;
  approvals: ApprovalRecord[];
  preview?: P;
  /** Approval rounds voided because the cluster changed between approval and execution. */
  approvalResets?: ApprovalReset[];
  error?: string;
}

export interface TicketWorkflowResult {
  status: TicketStatus;
  error?: string;
}

/** Approve or reject the current step; the validator refuses ineligible callers before anything is recorded. */
export const decideUpdate = defineUpdate<TicketWorkflowState, [DecideArgs]>('decide');
export const cancelSignal = defineSignal<[{ actor: Actor; reason?: string }]>('cancel');
export const stateQuery = defineQuery<TicketWorkflowState>('state');

/** Failure type names of update validation; the API maps them to HTTP statuses. */
export const DECISION_ERRORS = {
  notEligible: 'NotEligibleApprover',
  selfApproval: 'SelfApproval',
  notPending: 'NotPendingApproval',
  stalePreview: 'StalePreview',
} as const;
