import { z } from 'zod';
import type { CostPreview } from './billing.ts';
import type { Actor, Role } from './roles.ts';
import type { VdcRef } from './ticket-workflow.ts';
import { WorkloadDeployRequestSchema, WorkloadRollbackRequestSchema, type WorkloadPreview } from './workload.ts';
import { ImagePublishRequestSchema, type ImagePublishPreview } from './image-publish.ts';
import { WorkloadOperationRequestSchema, type WorkloadOperationPreview } from './workload-ops.ts';

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

export const TICKET_TYPES = ['quota-change', 'space-create', 'space-delete', 'node-join', 'quota-lease', 'workload-deploy', 'workload-rollback', 'image-publish', 'workload-operation'] as const;
export type TicketType = (typeof TICKET_TYPES)[number];

/** Quota resources a VDC can hold in the walking skeleton: cpu cores, memory GiB, pod count. */
export const QUOTA_RESOURCES = ['cpu', 'memoryGi', 'pods'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Quota = Partial<Record<QuotaResource, number>>;

const cores = z.number().finite().min(0).max(100_000).multipleOf(0.001);
const gib = z.number().finite().min(0).max(1_000_000).multipleOf(0.001);
const count = z.number().int().min(0).max(1_000_000);
/** Per-resource schemas of a quota amount, for contracts that need a complete quota (e.g. a new VDC). */
export const QUOTA_FIELDS = { cpu: cores, memoryGi: gib, pods: count } as const;

export const QuotaSchema = z
  .strictObject({ cpu: cores.optional(), memoryGi: gib.optional(), pods: count.optional() })
  .refine((q) => Object.values(q).some((v) => v !== undefined), { message: 'at least one of cpu, memoryGi, pods is required' });

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const vdcId = z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label');
const reason = z.string().max(2000).optional();

/** Body of `POST /api/tickets` for a quota change. Unknown fields are refused. */
export const QuotaChangeRequestSchema = z.strictObject({
  type: z.literal('quota-change'),
  vdcId,
  quota: QuotaSchema,
  reason,
});
export type QuotaChangeRequest = z.infer<typeof QuotaChangeRequestSchema>;

/** Longest quota lease: 90 days. */
export const MAX_LEASE_HOURS = 90 * 24;
const HOUR_MS = 3_600_000;

/**
 * Body of `POST /api/tickets` for a quota lease: `quota` is the quota in force during the lease (a
 * temporary increase), from `startsAt` (default: when approved) until `endsAt`, or for `durationHours`.
 * Exactly one of `endsAt` / `durationHours`; the end after the start; at most 90 days. Whether the end
 * is still in the future is the policy's call (time is its input).
 */
export const QuotaLeaseRequestSchema = z
  .strictObject({
    type: z.literal('quota-lease'),
    vdcId,
    quota: QuotaSchema,
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    durationHours: z.number().finite().positive().max(MAX_LEASE_HOURS).optional(),
    reason,
  })
  .superRefine((v, ctx) => {
    if ((v.endsAt === undefined) === (v.durationHours === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'exactly one of endsAt or durationHours is required' });
      return;
    }
    if (v.endsAt !== undefined && v.startsAt !== undefined) {
      const hours = (Date.parse(v.endsAt) - Date.parse(v.startsAt)) / HOUR_MS;
      if (hours <= 0) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
      else if (hours > MAX_LEASE_HOURS) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a lease lasts at most 90 days' });
    }
  });
export type QuotaLeaseRequest = z.infer<typeof QuotaLeaseRequestSchema>;

/**
 * The lease window in epoch ms when the lease begins no earlier than `notBeforeMs` (submit or approval
 * time): it starts at `startsAt` or then, whichever is later, and ends at `endsAt` or `durationHours`
 * after the start. Pure (time is an input), so the policy and the workflow compute the same window.
 */
export function leaseWindow(lease: Pick<QuotaLeaseRequest, 'startsAt' | 'endsAt' | 'durationHours'>, notBeforeMs: number): { startMs: number; endMs: number } {
  const startMs = Math.max(lease.startsAt !== undefined ? Date.parse(lease.startsAt) : notBeforeMs, notBeforeMs);
  const endMs = lease.endsAt !== undefined ? Date.parse(lease.endsAt) : startMs + Math.round((lease.durationHours ?? 0) * HOUR_MS);
  return { startMs, endMs };
}

/** Longest application space name; with the VDC id it must still fit a namespace name (63). */
export const SPACE_NAME_MAX = 40;
/** The one Kubernetes namespace of an application space: `<vdcId>-<name>`. */
export const spaceNamespace = (vdcId: string, name: string): string => `${vdcId}-${name}`;

/** Namespace prefixes a space may not take: Kubernetes' own, and VDCs' first namespaces (`vdc-<id>`). */
const RESERVED_NAMESPACE_PREFIXES = ['kube-', 'vdc-'] as const;

const spaceName = z.string().min(1).max(SPACE_NAME_MAX).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');

/** Label key prefixes Edgeport or Kubernetes own; a tenant label there could override isolation (e.g. pod security). */
const RESERVED_LABEL_PREFIX = /(^|\.)(edgeport\.io|kubernetes\.io|k8s\.io)$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const MAX_SPACE_LABELS = 32;

/** Why `key` is not a Kubernetes label key a tenant may set, or undefined when it is fine. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'label name must be 1-63 characters of letters, digits, -, _, . starting and ending with a letter or digit';
  }
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return 'label prefix must be a DNS subdomain';
    if (RESERVED_LABEL_PREFIX.test(prefix)) return `label prefix ${prefix} is reserved`;
  }
  return undefined;
}

/** Why `value` is not a Kubernetes label value, or undefined when it is fine (empty is allowed). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  return value.length > 63 || !LABEL_NAME.test(value)
    ? 'label value must be empty or 1-63 characters of letters, digits, -, _, . starting and ending with a letter or digit'
    : undefined;
}

/** Tenant labels of a namespace, validated to the Kubernetes label rules; errors name `labels.<key>`. */
export const SpaceLabelsSchema = z.record(z.string().max(317), z.string().max(63)).superRefine((labels, ctx) => {
  const keys = Object.keys(labels);
  if (keys.length > MAX_SPACE_LABELS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_SPACE_LABELS} labels` });
  for (const key of keys) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(labels[key] ?? '');
    if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
  }
});

/** Body of `POST /api/tickets` creating an application space (one namespace `<vdcId>-<name>` of the VDC). */
export const SpaceCreateRequestSchema = z
  .strictObject({
    type: z.literal('space-create'),
    vdcId,
    name: spaceName,
    labels: SpaceLabelsSchema.optional(),
    reason,
  })
  .superRefine((v, ctx) => {
    const namespace = spaceNamespace(v.vdcId, v.name);
    if (namespace.length > 63) ctx.addIssue({ code: 'custom', path: ['name'], message: 'namespace <vdcId>-<name> exceeds 63 characters' });
    const reserved = RESERVED_NAMESPACE_PREFIXES.find((p) => namespace.startsWith(p));
    if (reserved) ctx.addIssue({ code: 'custom', path: ['vdcId'], message: `namespace ${namespace} would start with the reserved prefix ${reserved}` });
  });
export type SpaceCreateRequest = z.infer<typeof SpaceCreateRequestSchema>;

/** Body of `POST /api/tickets` deleting an application space of the VDC (its namespace and record). */
export const SpaceDeleteRequestSchema = z.strictObject({
  type: z.literal('space-delete'),
  vdcId,
  name: spaceName,
  reason,
});
export type SpaceDeleteRequest = z.infer<typeof SpaceDeleteRequestSchema>;

/** Node architectures an edge node may report (`kubernetes.io/arch`). */
export const NODE_ARCHES = ['amd64', 'arm64', 'arm', 'riscv64', 'ppc64le', 's390x'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const NODE_JOIN_TTL_MINUTES = { min: 5, max: 1440 } as const;
export const MAX_NODE_TAINTS = 16;

/** A taint the joined node gets; key follows the label-key rules (reserved prefixes refused), value the label-value rules. */
const NodeTaintSchema = z
  .strictObject({ key: z.string().min(1).max(317), value: z.string().max(63).optional(), effect: z.enum(TAINT_EFFECTS) })
  .superRefine((t, ctx) => {
    const kp = labelKeyProblem(t.key);
    if (kp) ctx.addIssue({ code: 'custom', path: ['key'], message: kp.replace(/^label/, 'taint key') });
    const vp = t.value === undefined ? undefined : labelValueProblem(t.value);
    if (vp) ctx.addIssue({ code: 'custom', path: ['value'], message: vp.replace(/^label/, 'taint') });
  });
export type NodeTaint = z.infer<typeof NodeTaintSchema>;

/** Body of `POST /api/tickets` joining edge node `nodeName` to resource pool `pool` for the VDC. */
export const NodeJoinRequestSchema = z.strictObject({
  type: z.literal('node-join'),
  vdcId,
  pool: z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label'),
  nodeName: z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain (lower-case letters, digits, - and .)'),
  arch: z.enum(NODE_ARCHES).optional(),
  labels: SpaceLabelsSchema.optional(),
  taints: z.array(NodeTaintSchema).max(MAX_NODE_TAINTS).optional(),
  tokenTtlMinutes: z.number().int().min(NODE_JOIN_TTL_MINUTES.min).max(NODE_JOIN_TTL_MINUTES.max),
  reason,
});
export type NodeJoinRequest = z.infer<typeof NodeJoinRequestSchema>;


/** Every ticket body, discriminated by `type`; an unknown type is a 400 naming `type`. */
export const SubmitTicketSchema = z.discriminatedUnion('type', [QuotaChangeRequestSchema, SpaceCreateRequestSchema, SpaceDeleteRequestSchema, NodeJoinRequestSchema, QuotaLeaseRequestSchema, WorkloadDeployRequestSchema, WorkloadRollbackRequestSchema, ImagePublishRequestSchema, WorkloadOperationRequestSchema]);
export type SubmitTicket = z.infer<typeof SubmitTicketSchema>;
/** The request body of one ticket type. */
export type PayloadOf<T extends TicketType> = Extract<SubmitTicket, { type: T }>;

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

export type TicketPreview = QuotaPreview | SpacePreview | NodeJoinPreview | WorkloadPreview | ImagePublishPreview | WorkloadOperationPreview;

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

/** The preview each ticket type's preflight produces. */
export interface PreviewByType {
  'quota-change': QuotaPreview;
  'space-create': SpacePreview;
  'space-delete': SpacePreview;
  'node-join': NodeJoinPreview;
  'quota-lease': QuotaPreview;
  'workload-deploy': WorkloadPreview;
  'workload-rollback': WorkloadPreview;
  'image-publish': ImagePublishPreview;
  'workload-operation': WorkloadOperationPreview;
}

/** A ticket view whose type is known, with its payload and preview narrowed to that type. */
export type TicketViewOf<T extends TicketType> = Omit<TicketView, 'type' | 'payload' | 'preview'> & { type: T; payload: PayloadOf<T>; preview?: PreviewByType[T] };
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
