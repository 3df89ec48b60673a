import type { z } from 'zod';
import type { MonthlyBudget, ProjectedCost } from '../../common/budget.ts';
import type { Actor, Role } from '../../common/roles.ts';
import { NODE_JOIN_WORKFLOW, type NodeJoinInput } from '../../common/node-join-workflow.ts';
import { APPLICATION_SPACE_WORKFLOW, type ApplicationSpaceInput } from '../../common/space-workflow.ts';
import type { QuotaChangeInput } from '../../common/quota-change-workflow.ts';
import type { TicketWorkflowInput } from '../../common/ticket-workflow.ts';
import { NodeJoinRequestSchema, QuotaChangeRequestSchema, QuotaLeaseRequestSchema, SpaceCreateRequestSchema, SpaceDeleteRequestSchema, spaceNamespace, type PayloadOf, type Quota, type SubmitTicket, type TicketType, type VdcSpace, type Ticket } from '../../common/tickets.ts';
import { decideNodeJoin } from '../../policies/node-join.ts';
import { decideQuotaChange } from '../../policies/quota-change.ts';
import { decideQuotaLease } from '../../policies/quota-lease.ts';
import { QUOTA_LEASE_WORKFLOW, type QuotaLeaseInput } from '../../common/quota-lease-workflow.ts';
import { decideSpaceCreate, decideSpaceDelete } from '../../policies/space.ts';
import type { TicketDecision } from '../../policies/types.ts';
import { decideWorkloadDeploy, decideWorkloadRollback, WORKLOAD_POLICY_VERSION, workloadPoolProblem, type StandaloneVolume } from '../../policies/workload.ts';
import { placementNamespace } from '../../common/tenancy.ts';
import { WORKLOAD_WORKFLOW, type WorkloadInput } from '../../common/workload-workflow.ts';
import { WorkloadDeployRequestSchema, WorkloadRollbackRequestSchema, type WorkloadRecord } from '../../common/workload.ts';
import { ImagePublishRequestSchema, publishRepositories } from '../../common/image-publish.ts';
import { IMAGE_PUBLISH_WORKFLOW, type ImagePublishInput } from '../../common/image-publish-workflow.ts';
import { decideImagePublish } from '../../policies/image-publish.ts';
import { WORKLOAD_OPERATION_WORKFLOW, WorkloadOperationRequestSchema, type WorkloadOperationInput } from '../../common/workload-ops.ts';
import { decideWorkloadOperationTicket, recordedVolumeUsers, WORKLOAD_OPERATION_POLICY_VERSION } from '../../policies/workload-operation.ts';

/** What a policy may look at besides the request itself; loaded by the ticket service, never by the policy. */
export interface TicketPolicyContext<P> {
  payload: P;
  requester: Actor;
  /** Roles the requester can act as in approval chains of the ticket's VDC. */
  requesterRoles: readonly Role[];
  vdc: {
    id: string;
    domainId: string;
    quota: Quota;
    spaces: readonly VdcSpace[];
    /** The VDC's default namespace (workloads without a space go there). */
    namespace?: string;
    /** The VDC's workloads as recorded (the storage rules look at their volumes). */
    workloads?: readonly WorkloadRecord[];
    /** The VDC's standalone volumes (volume API): mountable with `existing: true`, their names taken. */
    volumes?: readonly StandaloneVolume[];
    /** The resource pool the VDC lives in (its primary pool). */
    pool?: string;
    /** Every pool the VDC lives on, primary first. */
    pools?: readonly string[];
    /** The VDC's monthly budget, when set. */
    monthlyBudget?: MonthlyBudget;
  };
  /** Quota requests: the monthly cost of the VDC's quota after the change under the price book in force. */
  projectedCost?: ProjectedCost;
}

/** Operations whose decision needs the live quota and day-2 state: refused as tickets submitted directly. */
const REPLICA_OPS: ReadonlySet<string> = new Set(['scale', 'stop', 'start']);

/**
 * The namespace a workload ticket targets: its space's, the VDC's namespace on `pool` when that is a further
 * pool (`vdc-<id>-<pool>`), or the VDC's default one. Whether `pool` is the VDC's is the policy's to decide.
 */
const workloadNamespace = (vdc: { id: string; namespace?: string; pool?: string }, space: string | undefined, pool?: string): string => {
  if (space) return spaceNamespace(vdc.id, space);
  if (pool !== undefined && vdc.pool !== undefined && pool !== vdc.pool) return placementNamespace(vdc.id, pool, false);
  return vdc.namespace ?? `vdc-${vdc.id}`;
};

/** The pool refusal of a rollback or operation ticket naming a pool that is not the VDC's (field `pool`). */
const poolDenial = (pool: string | undefined, space: string | undefined, vdc: TicketPolicyContext<unknown>['vdc']): TicketDecision | undefined => {
  const problem = workloadPoolProblem(pool, space, poolsOf(vdc));
  return problem ? { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: problem, field: 'pool' } : undefined;
};

const poolsOf = (vdc: TicketPolicyContext<unknown>['vdc']): { pools?: readonly string[]; spacePools: Record<string, string> } => ({
  ...(vdc.pools ? { pools: vdc.pools } : {}),
  spacePools: Object.fromEntries(vdc.spaces.filter((s) => s.pool !== undefined).map((s) => [s.name, s.pool as string])),
});

/** A stored ticket of one type (its payload narrowed to that type's body). */
export type StoredTicket<T extends TicketType> = Ticket & { type: T; payload: PayloadOf<T> };

/**
 * Everything the API needs to know about one ticket type. Adding a type: its zod body in
 * `common/tickets.ts` (and in `SubmitTicketSchema`), a pure policy in `policies/`, a workflow registered
 * in `workflows/index.ts` that calls `ticketApproval()`, and one entry here.
 */
export interface TicketTypeDef<T extends TicketType> {
  type: T;
  /** The request body (the member of `SubmitTicketSchema` for this type). */
  schema: z.ZodType<PayloadOf<T>>;
  /** The policy deciding the approval chain at submit time; its version is stored on the ticket. */
  decide(ctx: TicketPolicyContext<PayloadOf<T>>): TicketDecision;
  /** Temporal workflow type started for the ticket (workflow id = ticket id). */
  workflowType: string;
  /** The workflow's input, built from the stored ticket only (the reconciler starts workflows from it too). */
  workflowInput(ticket: StoredTicket<T>): TicketWorkflowInput;
}

/** Input fields every ticket workflow gets from its stored ticket. */
const baseInput = (t: Ticket): TicketWorkflowInput => ({
  ticketId: t._id,
  requester: t.requester,
  vdc: t.vdc,
  policy: t.policy,
  approvalTimeoutMs: t.approvalTimeoutMs,
});

/** The ticket-type registry. */
export const TICKET_TYPE_DEFS: { readonly [T in TicketType]: TicketTypeDef<T> } = {
  'quota-change': {
    type: 'quota-change',
    schema: QuotaChangeRequestSchema,
    decide: ({ payload, vdc, projectedCost }) =>
      decideQuotaChange({ current: vdc.quota, requested: payload.quota, budget: { ...(vdc.monthlyBudget ? { monthlyBudget: vdc.monthlyBudget } : {}), ...(projectedCost ? { projected: projectedCost } : {}) } }),
    workflowType: 'quotaChangeWorkflow',
    workflowInput: (t): QuotaChangeInput => ({ ...baseInput(t), requested: t.payload.quota }),
  },
  'quota-lease': {
    type: 'quota-lease',
    schema: QuotaLeaseRequestSchema,
    decide: ({ payload, vdc }) => decideQuotaLease({ current: vdc.quota, leased: payload.quota, lease: payload, now: Date.now() }),
    workflowType: QUOTA_LEASE_WORKFLOW,
    workflowInput: (t): QuotaLeaseInput => ({
      ...baseInput(t),
      leased: t.payload.quota,
      lease: {
        ...(t.payload.startsAt !== undefined ? { startsAt: t.payload.startsAt } : {}),
        ...(t.payload.endsAt !== undefined ? { endsAt: t.payload.endsAt } : {}),
        ...(t.payload.durationHours !== undefined ? { durationHours: t.payload.durationHours } : {}),
      },
    }),
  },
  'space-create': {
    type: 'space-create',
    schema: SpaceCreateRequestSchema,
    decide: ({ payload, vdc, requesterRoles }) => decideSpaceCreate({ name: payload.name, spaces: vdc.spaces, requesterRoles }),
    workflowType: APPLICATION_SPACE_WORKFLOW,
    workflowInput: (t): ApplicationSpaceInput => ({
      ...baseInput(t),
      action: 'create',
      space: { name: t.payload.name, namespace: spaceNamespace(t.vdc.id, t.payload.name), labels: t.payload.labels ?? {} },
    }),
  },
  'space-delete': {
    type: 'space-delete',
    schema: SpaceDeleteRequestSchema,
    decide: ({ payload, vdc, requesterRoles }) => decideSpaceDelete({ name: payload.name, spaces: vdc.spaces, requesterRoles }),
    workflowType: APPLICATION_SPACE_WORKFLOW,
    workflowInput: (t): ApplicationSpaceInput => ({
      ...baseInput(t),
      action: 'delete',
      space: { name: t.payload.name, namespace: spaceNamespace(t.vdc.id, t.payload.name), labels: {} },
    }),
  },
  'workload-deploy': {
    type: 'workload-deploy',
    schema: WorkloadDeployRequestSchema,
    decide: ({ payload, vdc, requesterRoles }) =>
      decideWorkloadDeploy({
        spec: payload.workload,
        namespace: workloadNamespace(vdc, payload.workload.space, payload.workload.pool),
        spaces: vdc.spaces,
        workloads: vdc.workloads ?? [],
        volumes: vdc.volumes ?? [],
        requesterRoles,
        ...poolsOf(vdc),
      }),
    workflowType: WORKLOAD_WORKFLOW,
    workflowInput: (t): WorkloadInput => ({ ...baseInput(t), action: 'deploy', namespace: workloadNamespace(t.vdc, t.payload.workload.space, t.payload.workload.pool), spec: t.payload.workload }),
  },
  'workload-rollback': {
    type: 'workload-rollback',
    schema: WorkloadRollbackRequestSchema,
    decide: ({ payload, vdc }) =>
      poolDenial(payload.pool, payload.space, vdc) ??
      decideWorkloadRollback({ name: payload.name, namespace: workloadNamespace(vdc, payload.space, payload.pool), ...(payload.revision !== undefined ? { revision: payload.revision } : {}), workloads: vdc.workloads ?? [], volumes: vdc.volumes ?? [] }),
    workflowType: WORKLOAD_WORKFLOW,
    workflowInput: (t): WorkloadInput => ({
      ...baseInput(t),
      action: 'rollback',
      namespace: workloadNamespace(t.vdc, t.payload.space, t.payload.pool),
      target: { name: t.payload.name, ...(t.payload.revision !== undefined ? { revision: t.payload.revision } : {}) },
    }),
  },
  'image-publish': {
    type: 'image-publish',
    schema: ImagePublishRequestSchema,
    decide: ({ payload, requesterRoles }) => decideImagePublish({ visibility: payload.target.visibility, scanOverride: payload.scanOverride !== undefined, requesterRoles }),
    workflowType: IMAGE_PUBLISH_WORKFLOW,
    workflowInput: (t): ImagePublishInput => {
      const repos = publishRepositories(t.vdc.id, t.payload);
      return {
        ...baseInput(t),
        source: { repository: repos.source, tag: repos.sourceTag },
        target: { repository: repos.target, tag: repos.targetTag, visibility: t.payload.target.visibility },
        ...(t.payload.scanOverride ? { scanOverride: { reason: t.payload.scanOverride.reason } } : {}),
      };
    },
  },
  'workload-operation': {
    type: 'workload-operation',
    schema: WorkloadOperationRequestSchema,
    decide: ({ payload, vdc }) => {
      const denied = poolDenial(payload.pool, payload.space, vdc);
      if (denied) return denied;
      const namespace = workloadNamespace(vdc, payload.space, payload.pool);
      const workloads = vdc.workloads ?? [];
      const w = workloads.find((x) => x.namespace === namespace && x.name === payload.name);
      if (!w) return { version: WORKLOAD_OPERATION_POLICY_VERSION, outcome: 'deny', reason: `no workload ${payload.name} in ${namespace}`, field: 'name' };
      // Replica changes are decided on the live ResourceQuota and the remembered stop count, which only the
      // operations route reads; the policy never sends them to approval, so no legitimate ticket carries one.
      if (REPLICA_OPS.has(payload.operation.op)) {
        return { version: WORKLOAD_OPERATION_POLICY_VERSION, outcome: 'deny', reason: `${payload.operation.op} is applied through POST /api/vdcs/${vdc.id}/workloads/${namespace}/${payload.name}/operations (quota checked there), not as a ticket`, field: 'operation.op' };
      }
      return decideWorkloadOperationTicket({ operation: payload.operation, namespace, spec: w.spec, dayTwo: {}, workloads, perReplica: { cpu: 0, memoryGi: 0 }, volumeUsers: recordedVolumeUsers(w.spec, namespace, workloads) });
    },
    workflowType: WORKLOAD_OPERATION_WORKFLOW,
    workflowInput: (t): WorkloadOperationInput => ({ ...baseInput(t), namespace: workloadNamespace(t.vdc, t.payload.space, t.payload.pool), name: t.payload.name, operation: t.payload.operation }),
  },
  'node-join': {
    type: 'node-join',
    schema: NodeJoinRequestSchema,
    decide: ({ payload, vdc, requesterRoles }) =>
      decideNodeJoin({ pool: payload.pool, nodeName: payload.nodeName, taints: payload.taints ?? [], tokenTtlMinutes: payload.tokenTtlMinutes, ...(vdc.pools ? { vdcPools: vdc.pools } : {}), requesterRoles }),
    workflowType: NODE_JOIN_WORKFLOW,
    workflowInput: (t): NodeJoinInput => ({
      ...baseInput(t),
      node: {
        pool: t.payload.pool,
        nodeName: t.payload.nodeName,
        ...(t.payload.arch ? { arch: t.payload.arch } : {}),
        labels: t.payload.labels ?? {},
        taints: t.payload.taints ?? [],
        tokenTtlMinutes: t.payload.tokenTtlMinutes,
      },
    }),
  },
};

/**
 * The definition of a body's type, typed over the whole union. Sound because `TICKET_TYPE_DEFS` is keyed
 * by type: the entry for `payload.type` takes exactly that payload.
 */
function defOf(type: TicketType): TicketTypeDef<TicketType> {
  return TICKET_TYPE_DEFS[type] as unknown as TicketTypeDef<TicketType>;
}

/** Runs the policy of the body's ticket type. */
export function decideTicket(ctx: TicketPolicyContext<SubmitTicket>): TicketDecision {
  return defOf(ctx.payload.type).decide(ctx);
}

/** Workflow type and input of a stored ticket. */
export function workflowStartOf(t: Ticket): { workflowType: string; input: TicketWorkflowInput } {
  const def = defOf(t.type);
  return { workflowType: def.workflowType, input: def.workflowInput(t as StoredTicket<TicketType>) };
}
