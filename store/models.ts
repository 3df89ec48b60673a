import { Schema, type Connection, type Model } from 'mongoose';
import type { LedgerLine } from '../common/billing.ts';
import type { CustomRole } from '../common/permissions.ts';
import type { User } from '../common/roles.ts';
import type { Vdc } from '../common/tenancy.ts';
import type { Ticket } from '../common/tickets.ts';

export interface DomainDoc {
  _id: string;
  name: string;
  /** Set while a delete checks that the domain is empty; a VDC created meanwhile backs out. */
  deleting?: boolean;
}

/** The document is the domain shape `Vdc` (common/) as is. */
export type VdcDoc = Vdc;

/** The document is the domain shape `User` (common/) as is. */
export type UserDoc = User;

/** The document is the domain shape `Ticket` (common/) as is. */
export type TicketDoc = Ticket;

/** The document is the domain shape `CustomRole` (common/) as is. */
export type CustomRoleDoc = CustomRole;

/** The document is the domain shape `LedgerLine` (common/) as is. */
export type LedgerLineDoc = LedgerLine;

const quota = { cpu: Number, memoryGi: Number, pods: Number, storageGi: Number };
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
      {
        _id: String,
        username: { type: String, unique: true },
        name: String,
        email: String,
        bindings: { type: Schema.Types.Mixed, default: [] },
        lastLoginAt: Date,
        emailVerified: Boolean,
        certSubject: String,
      },
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
      voided: { type: { by: { sub: String, name: String }, at: Date, reason: String }, _id: false, default: undefined },
    },
    { versionKey: false, timestamps: { createdAt: true, updatedAt: false } },
  );
  // Reports stream the ledger in this order, one VDC at a time (store/ledger.ts `reportCursor`).
  ledgerSchema.index({ vdcId: 1, start: 1, _id: 1 });
  const LedgerLine = conn.model<LedgerLineDoc>('LedgerLine', ledgerSchema);
  const CustomRole = conn.model<CustomRoleDoc>(
    'CustomRole',
    new Schema<CustomRoleDoc>(
      { _id: String, name: String, baseRole: String, permissions: [String], createdBy: String },
      { versionKey: false, timestamps: true },
    ),
  );
  return { Domain, Vdc, User, Ticket, LedgerLine, CustomRole };
}
