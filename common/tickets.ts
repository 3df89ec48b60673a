import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { CostPreview } from './billing.ts';
import type { Actor, Role } from './roles.ts';
import type { WorkloadPreview } from './workload.ts';
import type { ImagePublishPreview } from './image-publish.ts';
import type { WorkloadOperationPreview } from './workload-ops.ts';
import type { NodeTaint } from './ticket-types/node-join.ts';
import type { PreviewKind } from './ticket-types/kit.ts';
import type { TICKET_TYPE_SPECS, PayloadOf, SubmitTicket, TicketType } from './ticket-types/index.ts';
import type { Quota, QuotaResource } from './ticket-fields.ts';
import type { VdcRef } from './ticket-workflow.ts';

// Ticket types are defined one per file in `common/ticket-types/`; this module re-exports their contract.
export * from './ticket-fields.ts';
export * from './ticket-types/kit.ts';
export * from './ticket-types/index.ts';
export * from './ticket-types/quota-change.ts';
export * from './ticket-types/quota-lease.ts';
export * from './ticket-types/space-create.ts';
export * from './ticket-types/space-delete.ts';
export * from './ticket-types/node-join.ts';

export const TICKET_STATUSES = [
  'submitted',
  'pending_approval',
  'approved',
  'executing',
  'completed',
  'rejected',
  'failed',
  'cancelled',
  'compensated',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const FINAL_STATUSES: readonly TicketStatus[] = ['completed', 'rejected', 'failed', 'cancelled', 'compensated'];

export const DecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: displayText({ max: 2000, min: 0, multiline: true }).optional(),
  /** When given, must equal the preview the approver saw; a stale preview is refused. */
  previewHash: z.string().max(128).optional(),
});
export type DecisionBody = z.infer<typeof DecisionSchema>;

/** One step of an approval chain decided by policy at submit time. */
export interface ApprovalStep {
  step: number;
  /** The role that decides this step (the first of `roles` when those are given). */
  role: Role;
  label: string;
  /** Roles that may decide this step; absent → `[role]`. */
  roles?: Role[];
  /** `any-of` (default): one approval by a holder of any listed role; `all-of`: one approval per listed role. */
  mode?: 'any-of' | 'all-of';
  /** SLA of each level of this step; absent → the ticket's `approvalTimeoutMs` and no escalation. */
  sla?: StepSla;
}

/** Deadline, reminder and escalation levels of one approval step (durable timers in the workflow). */
export interface StepSla {
  /** How long each level may wait for a decision. */
  deadlineMs: number;
  /** How long before the deadline a reminder is recorded (0 = none). */
  remindBeforeMs: number;
  /** Roles the step escalates to, in order, when a level's deadline passes; after the last, the ticket is rejected. */
  escalateTo: Role[];
}

/** One approval given on an all-of step (or the single decision of an any-of step, mirrored on the record). */
export interface ApprovalVote {
  role: Role;
  actor: Actor;
  at: string;
  /** Set when `actor` decided as the delegate of this approver. */
  onBehalfOf?: Actor;
  comment?: string;
}

export interface ApprovalRecord {
  step: number;
  role: Role;
  decision?: 'approve' | 'reject';
  actor?: Actor;
  at?: string;
  comment?: string;
  /** Set when `actor` decided as the delegate of this approver ("decided by actor on behalf of …"). */
  onBehalfOf?: Actor;
  /** Roles that may decide now (after escalation: the escalated role); absent → the chain step's roles. */
  roles?: Role[];
  /** All-of steps: the approvals given so far. */
  votes?: ApprovalVote[];
  /** When the current level of this step is due (ISO); set while the step waits. */
  deadline?: string;
  /** Reminders recorded before a deadline. */
  reminders?: string[];
  /** Escalations recorded at a deadline. */
  escalations?: { at: string; from: Role[]; to: Role[] }[];
}

/** A round of approvals voided because the cluster changed between approval and execution. */
export interface ApprovalReset {
  at: string;
  reason: string;
  previousHash: string;
  newHash: string;
  approvals: ApprovalRecord[];
}

export interface QuotaDiffLine {
  resource: QuotaResource;
  from: number | null;
  to: number;
  used: number | null;
}

/** What preflight found; approvers decide on this, identified by its hash. */
export interface QuotaPreview {
  hash: string;
  namespace: string;
  /** Every namespace the quota applies to (first namespace, then application spaces); `used` is summed over them. */
  namespaces?: string[];
  current: Quota;
  used: Quota;
  requested: Quota;
  diff: QuotaDiffLine[];
  checkedAt: string;
  /** Monthly cost delta under the price book in force at preflight (not part of the hash). */
  cost?: CostPreview;
}

/** What the application space preflight found in the cluster; approvers decide on this. */
export interface SpacePreview {
  hash: string;
  action: 'create' | 'delete';
  namespace: string;
  /** Every label the namespace gets (create) or has (delete), Edgeport's included. */
  labels: Record<string, string>;
  /** Delete only: objects in the namespace besides Edgeport's own (always empty when the preflight passed). */
  workloads: string[];
  checkedAt: string;
  /** Cost block (no billable lines for a space), naming the price book in force; not part of the hash. */
  cost?: CostPreview;
}

/** What the node-join preflight found; approvers decide on this (never carries the token). */
export interface NodeJoinPreview {
  hash: string;
  pool: string;
  nodeName: string;
  arch?: string;
  /** Every label the node gets, Edgeport's included. */
  labels: Record<string, string>;
  taints: NodeTaint[];
  tokenTtlMinutes: number;
  checkedAt: string;
  /** Monthly cost of the node under the price book in force at preflight; not part of the hash. */
  cost?: CostPreview;
}

/** The preview of each kind (`TicketTypeSpec.previewKind`). */
export type PreviewOfKind = {
  quota: QuotaPreview;
  space: SpacePreview;
  'node-join': NodeJoinPreview;
  workload: WorkloadPreview;
  'image-publish': ImagePublishPreview;
  'workload-operation': WorkloadOperationPreview;
};
export type TicketPreview = PreviewOfKind[PreviewKind];

/** Lifecycle of an application space as recorded on its VDC. */
export const SPACE_STATUSES = ['active', 'deleting'] as const;
export type SpaceStatus = (typeof SPACE_STATUSES)[number];

/** An application space on its VDC record: one namespace bound to the VDC. */
export interface VdcSpace {
  name: string;
  namespace: string;
  status: SpaceStatus;
  /** The ticket that created it (and whose compensation may remove it). */
  ticketId: string;
  createdAt: string;
  /** The pool it lives on; absent: the VDC's primary pool. */
  pool?: string;
}

export interface PolicySummary {
  version: string;
  outcome: 'approval' | 'auto-approve';
  reason: string;
  chain: ApprovalStep[];
}

/** Ticket as the API returns it. */
export interface TicketView {
  id: string;
  type: TicketType;
  status: TicketStatus;
  requester: Actor;
  vdcId: string;
  vdcName: string;
  domainId: string;
  payload: SubmitTicket;
  policy: PolicySummary;
  approvals: ApprovalRecord[];
  currentStep: number | null;
  preview?: TicketPreview;
  /** Earlier approval rounds voided because the cluster changed before execution. */
  approvalResets?: ApprovalReset[];
  result?: { appliedAt: string; ledgerLineId?: string };
  error?: string;
  createdAt: string;
  updatedAt: string;
}

/** The preview each ticket type's preflight produces (by its preview kind). */
export type PreviewByType = { [T in TicketType]: PreviewOfKind[(typeof TICKET_TYPE_SPECS)[T]['previewKind']] };

/** A ticket view whose type is known, with its payload and preview narrowed to that type. */
export type TicketViewOf<T extends TicketType> = Omit<TicketView, 'type' | 'payload' | 'preview'> & {
  type: T;
  payload: PayloadOf<T>;
  preview?: PreviewByType[T];
};
export type QuotaChangeTicketView = TicketViewOf<'quota-change'>;

export interface TimelineEntry {
  eventId: number;
  time: string;
  kind: 'submitted' | 'activity' | 'decision' | 'signal' | 'timer' | 'completed' | 'failed' | 'retry' | 'other';
  title: string;
  actor?: string;
  detail?: string;
}

/** A ticket as stored (`_id` is its id); store/ names it `TicketDoc`. Plain values: mongoose documents never leave store/. */
export interface Ticket {
  _id: string;
  type: TicketType;
  status: TicketStatus;
  requester: Actor;
  vdc: VdcRef;
  payload: SubmitTicket;
  policy: PolicySummary;
  approvals: ApprovalRecord[];
  currentStep: number | null;
  preview?: TicketPreview;
  approvalResets?: ApprovalReset[];
  result?: { appliedAt: string; ledgerLineId?: string };
  error?: string;
  /** Requester-scoped idempotency key of the submit; unique per requester. */
  idempotencyKey?: string;
  /** Highest projection sequence applied; older (late, retried) projections are ignored. */
  projectionSeq: number;
  /** Whether the workflow start is known to have succeeded (the reconciler starts the rest). */
  workflowStarted: boolean;
  approvalTimeoutMs: number;
  createdAt: Date;
  updatedAt: Date;
}
