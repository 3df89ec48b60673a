import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor } from '../common/roles.ts';
import {
  specDiff,
  WORKLOAD_OPERATION_ERRORS,
  type WorkloadDayTwoState,
  type WorkloadOperation,
  type WorkloadOperationPreview,
} from '../common/workload-ops.ts';
import { isOwnedVolume, type WorkloadRecord } from '../common/workload.ts';
import { specAfter } from '../policies/workload-operation.ts';
import type { Store } from '../store/index.ts';
import type { WorkloadOperationStore } from '../store/workload-operations.ts';
import { poolOfNamespace } from '../common/tenancy.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { applyOperation, deleteWorkload, RESTART_ANNOTATION } from '../infra/kube/workload-ops.ts';
import { claimUsers, workloadObjects } from '../infra/kube/workload.ts';
import { workloadMeteringFact, type WorkloadMeteringFact } from './ledger/workloads.ts';

export interface WorkloadOperationDeps {
  /** Clients of the pool each namespace lives on. */
  pools: PoolClients;
  store: Store;
  /** Defaults to `store.workloadOperations`. */
  operations?: WorkloadOperationStore;
}

/** One operation to perform: where, what, who, and a stable id (the ticket id, or the API's request id). */
export interface PerformOperationArgs {
  vdcId: string;
  namespace: string;
  name: string;
  operation: WorkloadOperation;
  /** Idempotency key of the operation; recorded once. */
  opId: string;
  /** `direct`, or the ticket id it was approved on. */
  via: string;
  actor: Actor;
  /** When it happens (ISO); the restart annotation's value, so a retry sets the same one. */
  at: string;
}

/** Operations that change what the workload requests (so write a `workload.requests` ledger line). */
const METERED_OPS: ReadonlySet<WorkloadOperation['op']> = new Set(['scale', 'stop', 'start', 'delete']);

/** Result of an operation: the readable changes and, when it changes allocation, the billable fact from `at`. */
export interface WorkloadOperationDone {
  changes: string[];
  metered?: WorkloadMeteringFact;
}

/** The day-2 state after the operation (`null` clears the field). */
function stateAfter(op: WorkloadOperation, record: WorkloadRecord, at: string): { [K in keyof WorkloadDayTwoState]?: WorkloadDayTwoState[K] | null } {
  switch (op.op) {
    case 'stop':
      return { stoppedReplicas: record.spec.replicas };
    case 'start':
    case 'scale':
      return { stoppedReplicas: null };
    case 'restart':
      return { restartedAt: at, restartedRevision: record.revision };
    default:
      return {};
  }
}

const merged = (before: WorkloadDayTwoState, change: ReturnType<typeof stateAfter>): WorkloadDayTwoState => {
  const out: Record<string, unknown> = { ...before };
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out as WorkloadDayTwoState;
};

/**
 * Performs one day-2 operation: the cluster first (server-side apply of the full objects with Edgeport's
 * field manager, or the delete), then the workload record (scale / stop / start / access replace the
 * current spec in place: no new revision, since the pod template does not change; a delete removes the
 * record) and the operation log with the day-2 state. Idempotent on `opId`: a retry finds it recorded
 * and returns its changes. Scale / stop / start / delete also return the workload's requests in force from
 * `args.at` (`metered`, recorded in history; the ledger derives `workload.requests` lines from it). Used by
 * the `workloadDirectOperationWorkflow` (direct operations) and the `workload-operation` ticket workflow.
 * @throws `WorkloadNotFound` (no such recorded workload), `WorkloadOperationRefused` (a volume in use).
 */
export async function performWorkloadOperation(deps: WorkloadOperationDeps, args: PerformOperationArgs): Promise<WorkloadOperationDone> {
  const ops = deps.operations ?? deps.store.workloadOperations;
  const { namespace, name, operation: op } = args;
  const metered = async (spec: WorkloadRecord['spec'] | null, kind: WorkloadRecord['kind']): Promise<{ metered?: WorkloadMeteringFact }> => {
    if (!METERED_OPS.has(op.op)) return {};
    const vdc = await deps.store.vdcs.get(args.vdcId);
    return {
      metered: workloadMeteringFact(
        { id: args.vdcId, domainId: vdc?.domainId ?? '', pool: vdc ? poolOfNamespace(vdc, namespace) : undefined },
        { namespace, name, kind },
        spec,
        args.at,
      ),
    };
  };
  const dayTwo = await ops.get(namespace, name);
  const done = dayTwo.operations.find((o) => o.id === args.opId);
  if (done) {
    // A retry after the operation was recorded: the record as it is now (gone after a delete).
    const now = await deps.store.workloads.get(namespace, name);
    return { changes: done.changes, ...(await metered(op.op === 'delete' ? null : (now?.spec ?? null), now?.kind ?? 'Deployment')) };
  }
  const record = await deps.store.workloads.get(namespace, name);
  if (!record) throw ApplicationFailure.nonRetryable(`no workload ${name} in ${namespace}`, WORKLOAD_OPERATION_ERRORS.notFound);
  const entry = (changes: string[]) => ({
    id: args.opId,
    op: op.op,
    at: args.at,
    actor: { sub: args.actor.sub, name: args.actor.name },
    via: args.via,
    changes,
  });
  if (op.op === 'delete') {
    const deleted = await deleteWorkload(await deps.pools.forOwnedNamespace(namespace), record);
    const changes = deleted.map((d) => `deleted ${d}`);
    await ops.record(args.vdcId, namespace, name, entry(changes), { stoppedReplicas: null, restartedAt: null, restartedRevision: null });
    await deps.store.workloads.remove(namespace, name);
    return { changes, ...(await metered(null, record.kind)) };
  }
  const next = specAfter(record.spec, op, dayTwo);
  const change = stateAfter(op, record, args.at);
  const changes = op.op === 'restart' ? [`${RESTART_ANNOTATION}: ${args.at}`] : specDiff(record.spec, next);
  await applyOperation(await deps.pools.forOwnedNamespace(namespace), record, op, next, merged(dayTwo, change));
  if (changes.length > 0 && op.op !== 'restart') await deps.store.workloads.setCurrentSpec(namespace, name, next);
  await ops.record(args.vdcId, namespace, name, entry(changes), change);
  return { changes, ...(await metered(next, record.kind)) };
}

/** What an operation would change, for the ticket preview (no writes). */
export async function previewWorkloadOperation(
  deps: WorkloadOperationDeps,
  args: { namespace: string; name: string; operation: WorkloadOperation },
): Promise<WorkloadOperationPreview> {
  const ops = deps.operations ?? deps.store.workloadOperations;
  const { namespace, name, operation: op } = args;
  const record = await deps.store.workloads.get(namespace, name);
  const errors: string[] = [];
  let changes: string[] = [];
  if (!record) errors.push(`no workload ${name} in ${namespace}`);
  else if (op.op === 'delete') {
    changes = workloadObjects(record.spec, { vdcId: record.vdcId, namespace, ticketId: record.ticketId, revision: record.revision }).map(
      (o) => `delete ${o.kind}/${o.metadata?.name}`,
    );
    for (const v of (record.spec.volumes ?? []).filter(isOwnedVolume)) {
      const users = await claimUsers(await deps.pools.forOwnedNamespace(namespace), namespace, v.name, name);
      if (users.length > 0) errors.push(`storage rule volume-in-use: volume ${v.name} is mounted by ${users.join(', ')} and cannot be deleted`);
    }
  } else if (op.op === 'restart') changes = [`restart every pod of ${name}`];
  else changes = specDiff(record.spec, specAfter(record.spec, op, await ops.get(namespace, name)));
  const hash = createHash('sha256')
    .update(JSON.stringify([namespace, name, op, record?.revision ?? null, changes, errors]))
    .digest('hex')
    .slice(0, 32);
  return { hash, namespace, workload: name, kind: record?.kind ?? 'Deployment', operation: op, changes, errors, checkedAt: new Date().toISOString() };
}

/** Activities of the `workload-operation` ticket; idempotent (keyed by the ticket id). */
export function createWorkloadOperationActivities(deps: WorkloadOperationDeps) {
  return {
    /** Read-only: what the operation would change, and any refusal (a volume in use, a workload gone). */
    async preflightWorkloadOperation(args: { namespace: string; name: string; operation: WorkloadOperation }): Promise<WorkloadOperationPreview> {
      return previewWorkloadOperation(deps, args);
    },
    /** Performs the approved operation once (see {@link performWorkloadOperation}). */
    async executeWorkloadOperation(args: PerformOperationArgs): Promise<WorkloadOperationDone> {
      return performWorkloadOperation(deps, args);
    },
  };
}
export type WorkloadOperationActivities = ReturnType<typeof createWorkloadOperationActivities>;
