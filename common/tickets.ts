import { z } from 'zod';
import type { Actor, Role } from './roles.ts';

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

export const TICKET_TYPES = ['quota-change'] as const;
export type TicketType = (typeof TICKET_TYPES)[number];

/** Quota resources a VDC can hold in the walking skeleton: cpu cores, memory GiB, pod count. */
export const QUOTA_RESOURCES = ['cpu', 'memoryGi', 'pods'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Quota = Partial<Record<QuotaResource, number>>;

const cores = z.number().finite().min(0).max(100_000).multipleOf(0.001);
const gib = z.number().finite().min(0).max(1_000_000).multipleOf(0.001);
const count = z.number().int().min(0).max(1_000_000);

export const QuotaSchema = z
  .strictObject({ cpu: cores.optional(), memoryGi: gib.optional(), pods: count.optional() })
  .refine((q) => Object.values(q).some((v) => v !== undefined), { message: 'at least one of cpu, memoryGi, pods is required' });

/** Body of `POST /api/tickets` for a quota change. Unknown fields are refused. */
export const QuotaChangeRequestSchema = z.strictObject({
  type: z.literal('quota-change'),
  vdcId: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label'),
  quota: QuotaSchema,
  reason: z.string().max(2000).optional(),
});
export type QuotaChangeRequest = z.infer<typeof QuotaChangeRequestSchema>;

export const SubmitTicketSchema = z.discriminatedUnion('type', [QuotaChangeRequestSchema]);
export type SubmitTicket = z.infer<typeof SubmitTicketSchema>;

export const DecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000).optional(),
  /** When given, must equal the preview the approver saw; a stale preview is refused. */
  previewHash: z.string().max(128).optional(),
});
export type DecisionBody = z.infer<typeof DecisionSchema>;

/** One step of an approval chain decided by policy at submit time. */
export interface ApprovalStep {
  step: number;
  role: Role;
  label: string;
}

export interface ApprovalRecord {
  step: number;
  role: Role;
  decision?: 'approve' | 'reject';
  actor?: Actor;
  at?: string;
  comment?: string;
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
  current: Quota;
  used: Quota;
  requested: Quota;
  diff: QuotaDiffLine[];
  checkedAt: string;
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
  preview?: QuotaPreview;
  result?: { appliedAt: string; ledgerLineId?: string };
  error?: string;
  createdAt: string;
  updatedAt: string;
}

export interface TimelineEntry {
  eventId: number;
  time: string;
  kind: 'submitted' | 'activity' | 'decision' | 'signal' | 'timer' | 'completed' | 'failed' | 'retry' | 'other';
  title: string;
  actor?: string;
  detail?: string;
}
