import type { MonthlyBudget } from '../common/budget.ts';
import type { ActiveLease } from '../common/quota-lease-workflow.ts';
import { Schema, type Connection, type Model } from 'mongoose';
import type { Permission } from '../common/permissions.ts';
import type { Actor, Role, RoleBinding } from '../common/roles.ts';
import type { NamespaceStatus, VdcPlacement, VdcProvisioning } from '../common/tenancy.ts';
import type {
  ApprovalRecord,
  ApprovalReset,
  PolicySummary,
  Quota,
  SubmitTicket,
  TicketPreview,
  TicketStatus,
  TicketType,
  VdcSpace,
} from '../common/tickets.ts';
import type { VdcRef } from '../common/quota-change-workflow.ts';

export interface DomainDoc {
  _id: string;
  name: string;
  /** Set while a delete checks that the domain is empty; a VDC created meanwhile backs out. */
  deleting?: boolean;
}

export interface VdcDoc {
  _id: string;
  name: string;
  domainId: string;
  namespace: string;
  /** The primary pool (first the VDC was created on); `namespace` and `quota` are the VDC's there. */
  pool: string;
  quota: Quota;
  /** Further pools the VDC lives on, each with its namespace and quota there. */
  placements?: VdcPlacement[];
  /** Provisioning state (absent on records made before VDCs were provisioned by workflow: ready). */
  provisioning?: VdcProvisioning;
  /**
   * Whether the VDC's first namespace (`namespace`) exists: `requested` for a VDC created through the API
   * (a ticket creates it); absent on seeded records, whose namespace the seed created.
   */
  namespaceStatus?: NamespaceStatus;
  /** Application spaces created by tickets (each one namespace). */
  spaces?: VdcSpace[];
  /** Monthly budget set by a domain or operations admin; the quota policy auto-approves small increases under it. */
  monthlyBudget?: MonthlyBudget;
  /** Billing labels as a list (label keys may contain dots, which MongoDB field paths cannot). */
  labels?: { key: string; value: string }[];
  /** Leases in force (recorded by the lease workflow between its apply and its revert). */
  leases?: ActiveLease[];
}

export interface UserDoc {
  _id: string;
  username: string;
  name: string;
  email: string;
  bindings: RoleBinding[];
  lastLoginAt?: Date;
  /** Whether the identity provider said the email is verified at the last sign-in (absent: never said). */
  emailVerified?: boolean;
  /** Client-certificate subject DN bound to the user (second factor when mTLS is required). */
  certSubject?: string | null;
}

export interface TicketDoc {
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

export interface CustomRoleDoc {
  _id: `custom:${string}`;
  name: string;
  baseRole: Role;
  permissions: Permission[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One billable fact, keyed by its provenance in workflow history. */
export interface LedgerLineDoc {
  _id: string;
  workflowId: string;
  runId: string;
  eventId: number;
  /** `quota.lease`: a temporary increase (`quantities` = the increase) over [start, end). */
  fact: 'quota.allocation.changed' | 'quota.lease' | 'node.joined' | 'image.storage' | 'workload.requests' | 'volume.storage';
  vdcId: string;
  domainId: string;
  pool: string;
  /**
   * CPU architecture the fact is priced for (`node.joined`: the node's, e.g. arm64); absent: any. The price
   * book prices per resource, pool and architecture.
   */
  arch?: string;
  /** What the fact is about besides the VDC (`node.joined`: the node's name; `workload.requests`, `volume.storage`: `namespace/name`). */
  subject?: string;
  /** `imageStorageGi`: an `image.storage` sample (GiB of the VDC's private images held over [start, end)). */
  quantities: Quota & { nodes?: number; imageStorageGi?: number; /** `workload.requests`: GiB of the claims the workload owns. */ storageGi?: number };
  units: Record<string, string>;
  start: Date;
  /** End of the interval (a lease's revert); absent while open. */
  end?: Date;
  createdAt: Date;
}

const quota = { cpu: Number, memoryGi: Number, pods: Number };
const actor = { sub: String, name: String };

export interface Models {
  Domain: Model<DomainDoc>;
  Vdc: Model<VdcDoc>;
  User: Model<UserDoc>;
  Ticket: Model<TicketDoc>;
  LedgerLine: Model<LedgerLineDoc>;
  CustomRole: Model<CustomRoleDoc>;
}

/** Registers the schemas on one connection; strict schemas, string ids chosen by the application. */
export function createModels(conn: Connection): Models {
  const Domain = conn.model<DomainDoc>('Domain', new Schema<DomainDoc>({ _id: String, name: String, deleting: Boolean }, { versionKey: false }));
  const Vdc = conn.model<VdcDoc>(
    'Vdc',
    new Schema<VdcDoc>(
      {
        _id: String,
        name: String,
        domainId: { type: String, index: true },
        namespace: String,
        pool: String,
        quota: { type: quota, _id: false },
        placements: { type: [{ pool: String, namespace: String, quota: { type: quota, _id: false }, _id: false }], default: undefined },
        provisioning: { type: { state: String, reason: String, at: String }, _id: false, default: undefined },
        namespaceStatus: String,
        spaces: { type: [Schema.Types.Mixed], default: undefined },
        monthlyBudget: { type: { amount: String, currency: String }, _id: false, default: undefined },
        labels: { type: [{ key: String, value: String, _id: false }], default: undefined },
        leases: { type: [Schema.Types.Mixed], default: undefined },
      },
      { versionKey: false },
    ),
  );
  const User = conn.model<UserDoc>(
    'User',
    new Schema<UserDoc>(
      { _id: String, username: { type: String, unique: true }, name: String, email: String, bindings: { type: Schema.Types.Mixed, default: [] }, lastLoginAt: Date, emailVerified: Boolean, certSubject: String },
      { versionKey: false },
    ),
  );
  const ticketSchema = new Schema<TicketDoc>(
    {
      _id: String,
      type: { type: String, required: true },
      status: { type: String, required: true, index: true },
      requester: { type: actor, _id: false },
      vdc: { type: { id: String, name: String, domainId: String, namespace: String, pool: String }, _id: false },
      payload: { type: Schema.Types.Mixed, required: true },
      policy: { type: Schema.Types.Mixed, required: true },
      approvals: { type: Schema.Types.Mixed, default: [] },
      currentStep: { type: Number, default: null },
      preview: Schema.Types.Mixed,
      approvalResets: Schema.Types.Mixed,
      result: Schema.Types.Mixed,
      error: String,
      idempotencyKey: String,
      projectionSeq: { type: Number, default: 0 },
      workflowStarted: { type: Boolean, default: false },
      approvalTimeoutMs: Number,
    },
    { versionKey: false, timestamps: true, minimize: false },
  );
  ticketSchema.index({ 'requester.sub': 1, idempotencyKey: 1 }, { unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } });
  ticketSchema.index({ 'vdc.id': 1, createdAt: -1 });
  ticketSchema.index({ workflowStarted: 1, createdAt: 1 });
  const Ticket = conn.model<TicketDoc>('Ticket', ticketSchema);
  const ledgerSchema = new Schema<LedgerLineDoc>(
    {
      _id: String,
      workflowId: { type: String, index: true },
      runId: String,
      eventId: Number,
      fact: String,
      vdcId: { type: String, index: true },
      domainId: String,
      pool: String,
      arch: String,
      subject: String,
      quantities: { type: { ...quota, nodes: Number, imageStorageGi: Number, storageGi: Number }, _id: false },
      units: Schema.Types.Mixed,
      start: Date,
      end: Date,
    },
    { versionKey: false, timestamps: { createdAt: true, updatedAt: false } },
  );
  // Reports stream the ledger in this order, one VDC at a time (store/ledger.ts `reportCursor`).
  ledgerSchema.index({ vdcId: 1, start: 1, _id: 1 });
  const LedgerLine = conn.model<LedgerLineDoc>('LedgerLine', ledgerSchema);
  const CustomRole = conn.model<CustomRoleDoc>(
    'CustomRole',
    new Schema<CustomRoleDoc>({ _id: String, name: String, baseRole: String, permissions: [String], createdBy: String }, { versionKey: false, timestamps: true }),
  );
  return { Domain, Vdc, User, Ticket, LedgerLine, CustomRole };
}
