import { z } from 'zod';
import { displayText } from './display-text.ts';

import type { TicketWorkflowInput, TicketWorkflowResult } from './ticket-workflow.ts';
import { IngressSchema, ServiceSchema, type WorkloadKind, type WorkloadSpec } from './workload.ts';

/** The optional free-text reason of an operation. */
const reasonText = displayText({ max: 2000, min: 0, multiline: true }).optional();

/**
 * Day-2 operations on a deployed workload (issue 11): the operation bodies, the `workload-operation`
 * ticket body and workflow contract, and what the workload views return. Shared by api, policies,
 * workflows, activities and portal.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (max = 63) => z.string().min(1).max(max).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');

/** The access addresses of a workload: its Service and (optionally) its Ingress; `ingress: null` removes it. */
export const WorkloadAccessSchema = z.strictObject({
  service: ServiceSchema,
  ingress: IngressSchema.nullable().optional(),
});
export type WorkloadAccess = z.infer<typeof WorkloadAccessSchema>;

/** One operation on a workload. `stop` scales to zero remembering the count; `start` returns to it. */
export const WorkloadOperationSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('scale'), replicas: z.number().int().min(0).max(100) }),
  z.strictObject({ op: z.literal('stop') }),
  z.strictObject({ op: z.literal('start') }),
  z.strictObject({ op: z.literal('restart') }),
  z.strictObject({ op: z.literal('delete') }),
  z.strictObject({ op: z.literal('access'), access: WorkloadAccessSchema }),
]);
export type WorkloadOperation = z.infer<typeof WorkloadOperationSchema>;
export type WorkloadOperationName = WorkloadOperation['op'];
export const WORKLOAD_OPERATIONS = ['scale', 'stop', 'start', 'restart', 'delete', 'access'] as const satisfies readonly WorkloadOperationName[];

/** Body of `POST /api/vdcs/:id/workloads/:namespace/:name/operations`. */
export const WorkloadOperationBodySchema = z.strictObject({ operation: WorkloadOperationSchema, reason: reasonText });

/** Body of `POST /api/tickets` for an operation policy sends through approval (also what the operations route submits). */
export const WorkloadOperationRequestSchema = z.strictObject({
  type: z.literal('workload-operation'),
  vdcId: z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label'),
  name: dnsLabel(50),
  space: dnsLabel(40).optional(),
  /** The pool the workload runs on (absent: the VDC's primary pool). */
  pool: dnsLabel(63).optional(),
  operation: WorkloadOperationSchema,
  reason: reasonText,
});
export type WorkloadOperationRequest = z.infer<typeof WorkloadOperationRequestSchema>;

/** Workflow type of `workload-operation` tickets. */
export const WORKLOAD_OPERATION_WORKFLOW = 'workloadOperationWorkflow';

/**
 * Workflow type of a direct operation (one the policy lets the API apply without approval). The API starts
 * it with workflow id = the operation id and awaits its result, so the API never writes to Kubernetes.
 */
export const WORKLOAD_DIRECT_OPERATION_WORKFLOW = 'workloadDirectOperationWorkflow';

/** Input of {@link WORKLOAD_DIRECT_OPERATION_WORKFLOW}: ids and the operation body only (no manifests). */
export interface WorkloadDirectOperationInput {
  vdcId: string;
  namespace: string;
  name: string;
  operation: WorkloadOperation;
  /** Idempotency key of the operation and the workflow id. */
  opId: string;
  actor: { sub: string; name: string };
  /** When the API accepted it (ISO); the restart annotation's value. */
  at: string;
}

export interface WorkloadOperationInput extends TicketWorkflowInput {
  namespace: string;
  name: string;
  operation: WorkloadOperation;
}
export interface WorkloadOperationResult extends TicketWorkflowResult {
  changed?: string[];
}

/** What the operation preflight found; approvers decide on this (its hash). */
export interface WorkloadOperationPreview {
  hash: string;
  namespace: string;
  workload: string;
  kind: WorkloadKind;
  operation: WorkloadOperation;
  /** Readable lines `field: before → after` of the recorded spec, or the objects a delete removes. */
  changes: string[];
  errors: string[];
  checkedAt: string;
}

/** Non-retryable failure types of the operation activities. */
export const WORKLOAD_OPERATION_ERRORS = { refused: 'WorkloadOperationRefused', notFound: 'WorkloadNotFound' } as const;

/** The day-2 state Edgeport keeps beside the workload record (see store/workload-operations.ts). */
export interface WorkloadDayTwoState {
  /** Replicas before the last `stop` (what `start` returns to); absent while running. */
  stoppedReplicas?: number;
  /** Last `restart`: the time put in the pod template, and the revision it applies to. */
  restartedAt?: string;
  restartedRevision?: number;
}

/** One operation as recorded (audit keeps the who; this the what, per workload). */
export interface WorkloadOperationEntry {
  id: string;
  op: WorkloadOperationName;
  at: string;
  actor: { sub: string; name: string };
  /** `direct` or the ticket id of an approved operation. */
  via: 'direct' | string;
  changes: string[];
}

export type WorkloadStatus = 'available' | 'progressing' | 'failed' | 'stopped' | 'missing';

export interface WorkloadAccessAddress {
  kind: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'Ingress';
  address: string;
}

/** A workload in the list view. */
export interface WorkloadSummary {
  namespace: string;
  space?: string;
  /** The resource pool the workload's namespace lives on. */
  pool?: string;
  name: string;
  kind: WorkloadKind;
  status: WorkloadStatus;
  statusDetail: string;
  replicas: { ready: number; desired: number };
  images: string[];
  revision: number;
  access: WorkloadAccessAddress[];
  ticketId: string;
  updatedAt: string;
  stoppedReplicas?: number;
}

export interface WorkloadPodView {
  name: string;
  node?: string;
  phase: string;
  restarts: number;
  ip?: string;
  containers: string[];
  startedAt?: string;
}

export interface WorkloadEventView {
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  lastAt?: string;
}

export interface WorkloadRevisionView {
  revision: number;
  ticketId: string;
  at: string;
  current: boolean;
  images: string[];
  /** `field: before → after` against the revision before it (first revision: empty). */
  changes: string[];
}

export interface WorkloadEnvView {
  container: string;
  name: string;
  /** Plain values only; references are shown as references, never resolved. */
  value?: string;
  configMapRef?: { name: string; key: string };
  secretRef?: { name: string; key: string };
}

/** The detail view of one workload. */
export interface WorkloadDetail extends WorkloadSummary {
  pods: WorkloadPodView[];
  events: WorkloadEventView[];
  revisions: WorkloadRevisionView[];
  operations: WorkloadOperationEntry[];
  env: WorkloadEnvView[];
  spec: Pick<WorkloadSpec, 'service' | 'ingress' | 'strategy' | 'hpa' | 'nodeSelector' | 'affinity' | 'replicas' | 'volumes' | 'volumeClaimTemplates'>;
  scheduling: {
    nodeSelector: Record<string, string>;
    affinity: NonNullable<WorkloadSpec['affinity']>;
    tolerations?: NonNullable<WorkloadSpec['tolerations']>;
    pool?: string;
  };
  security: { container: string; settings: Record<string, unknown> }[];
}

/** Result of the operations route: applied now, or a ticket awaiting approval. */
export type WorkloadOperationOutcome =
  | { mode: 'direct'; op: WorkloadOperationName; changes: string[]; /** The operation id = id of the workflow that applied it. */ opId: string }
  | { mode: 'ticket'; op: WorkloadOperationName; ticketId: string; reason: string };

/** Flattens a value to `path: value` lines (arrays by index) for readable diffs. */
function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v === undefined) return;
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, Array.isArray(v) ? '[]' : '{}');
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  out.set(prefix, JSON.stringify(v));
}

/**
 * A readable diff of two recorded specs: one line per changed leaf, `path: before → after` (`∅` for
 * absent). Plain env values are included (they are in the spec already); nothing secret is in a spec.
 */
export function specDiff(before: unknown, after: unknown): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, '', a);
  flatten(after, '', b);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '∅'} → ${b.get(k) ?? '∅'}`);
}

/** A node of one of the VDC's pools joined for the VDC (`edgeport.io/vdc=<vdc>`), as the deploy form offers it. */
export interface VdcNodeView {
  name: string;
  status: string;
  schedulable: boolean;
  architecture: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
}

/** One pool of a VDC with the VDC's joined nodes there: `GET /api/vdcs/:id/edge-nodes`. */
export interface VdcPoolNodesView {
  pool: string;
  primary: boolean;
  /** The VDC's namespace there (where a workload deployed to this pool goes). */
  namespace: string;
  /** Architectures of every node of the pool (what `nodeSelector kubernetes.io/arch` may pick). */
  architectures: string[];
  nodes: VdcNodeView[];
  /** Why the pool's nodes could not be read (the other pools are still listed). */
  unavailable?: string;
}
