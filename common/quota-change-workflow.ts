import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, Role } from './roles.ts';
import type { ApprovalRecord, PolicySummary, Quota, QuotaPreview, TicketStatus } from './tickets.ts';

/** The VDC facts a ticket workflow needs, captured at submit time so the workflow never reads Mongo directly. */
export interface VdcRef {
  id: string;
  name: string;
  domainId: string;
  namespace: string;
  pool: string;
}

export interface QuotaChangeInput {
  ticketId: string;
  requester: Actor;
  vdc: VdcRef;
  requested: Quota;
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
}

export interface QuotaChangeState {
  status: TicketStatus;
  currentStep: number | null;
  approvals: ApprovalRecord[];
  preview?: QuotaPreview;
  error?: string;
}

export interface QuotaChangeResult {
  status: TicketStatus;
  appliedAt?: string;
  error?: string;
}

/** Approve or reject the current step; the validator refuses ineligible callers before anything is recorded. */
export const decideUpdate = defineUpdate<QuotaChangeState, [DecideArgs]>('decide');
export const cancelSignal = defineSignal<[{ actor: Actor; reason?: string }]>('cancel');
export const stateQuery = defineQuery<QuotaChangeState>('state');

/** Failure type names of update validation; the API maps them to HTTP statuses. */
export const DECISION_ERRORS = {
  notEligible: 'NotEligibleApprover',
  selfApproval: 'SelfApproval',
  notPending: 'NotPendingApproval',
  stalePreview: 'StalePreview',
} as const;
