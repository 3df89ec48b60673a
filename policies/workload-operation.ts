import { ROLES } from '../common/roles.ts';
import type { PolicySummary, Quota } from '../common/tickets.ts';
import type { WorkloadDayTwoState, WorkloadOperation } from '../common/workload-ops.ts';
import { isOwnedVolume, STORAGE_RULES, type WorkloadSpec } from '../common/workload.ts';
import type { TicketDecision } from './types.ts';
import { storageViolations, type ExistingWorkload } from './workload.ts';

/** Bumped whenever a rule below changes; stored on every operation ticket and in each audit entry. */
export const WORKLOAD_OPERATION_POLICY_VERSION = 'workload-operation/2026-12-08.1';

/** Requests of one replica of the workload (cpu cores, memory GiB), computed by the caller from the spec. */
export interface ReplicaRequests {
  cpu: number;
  memoryGi: number;
  /**
   * GiB of claims one more replica makes (a StatefulSet's claim templates; absent: none). Counted for every added
   * replica, even one whose claim a scale-down kept (conservative: the kube-apiserver would refuse the claim).
   */
  storageGi?: number;
}

export interface WorkloadOperationPolicyInput {
  operation: WorkloadOperation;
  namespace: string;
  /** The workload's recorded spec now. */
  spec: WorkloadSpec;
  dayTwo: WorkloadDayTwoState;
  /** The VDC's workloads as recorded (storage rules). */
  workloads: readonly ExistingWorkload[];
  perReplica: ReplicaRequests;
  /** The namespace's ResourceQuota (hard and used); absent = no quota to respect. */
  quota?: { hard: Quota; used: Quota };
  /** Other workloads of the namespace mounting a volume this one owns (storage rule volume-in-use). */
  volumeUsers?: readonly string[];
}

/** `direct`: the API applies it now; `approval`: a `workload-operation` ticket with this chain; or a denial naming the field. */
export type WorkloadOperationDecision =
  { version: string; outcome: 'direct'; reason: string } | (PolicySummary & { outcome: 'approval' }) | Extract<TicketDecision, { outcome: 'deny' }>;

const deny = (reason: string, field: string): WorkloadOperationDecision => ({ version: WORKLOAD_OPERATION_POLICY_VERSION, outcome: 'deny', reason, field });
const direct = (reason: string): WorkloadOperationDecision => ({ version: WORKLOAD_OPERATION_POLICY_VERSION, outcome: 'direct', reason });
const vdcAdmin = (reason: string): WorkloadOperationDecision => ({
  version: WORKLOAD_OPERATION_POLICY_VERSION,
  outcome: 'approval',
  reason,
  chain: [{ step: 0, role: ROLES.vdcAdmin, label: 'VDC admin' }],
});

const EXPOSED = new Set(['NodePort', 'LoadBalancer']);

/** The replica count `start` returns to: the one remembered at `stop`, else 1. */
export const startReplicas = (dayTwo: WorkloadDayTwoState): number => (dayTwo.stoppedReplicas && dayTwo.stoppedReplicas > 0 ? dayTwo.stoppedReplicas : 1);

/** The recorded spec after the operation (scale/stop/start change replicas, access the Service/Ingress); pure. */
export function specAfter(spec: WorkloadSpec, op: WorkloadOperation, dayTwo: WorkloadDayTwoState): WorkloadSpec {
  switch (op.op) {
    case 'scale':
      return { ...spec, replicas: op.replicas };
    case 'stop':
      return { ...spec, replicas: 0 };
    case 'start':
      return { ...spec, replicas: startReplicas(dayTwo) };
    case 'access': {
      const { ingress: _old, ...rest } = spec;
      void _old;
      const ingress = op.access.ingress === undefined ? spec.ingress : (op.access.ingress ?? undefined);
      return { ...rest, service: op.access.service, ...(ingress ? { ingress } : {}) };
    }
    default:
      return spec;
  }
}

/**
 * Decides how one operation on a deployed workload goes. Pure; table-tested in workload-operation.test.ts.
 * - scale / stop / start: Deployments and StatefulSets without an HPA only (`operation.op` /
 *   `operation.replicas`); the new count must keep the seed's storage rules (an RWO volume: at most one
 *   replica) and fit the namespace quota (`operation.replicas`, naming the resource) → direct;
 * - start only when stopped (`operation.op`);
 * - restart: Deployments and StatefulSets → direct;
 * - delete: no other workload may mount a volume it owns (storage rule volume-in-use) → VDC admin approval;
 * - access: exposing outside the cluster needs a VDC admin: a Service that becomes (or changes its node
 *   port / load balancer IP as) NodePort or LoadBalancer, an Ingress added or its host / TLS changed.
 *   Everything else (ClusterIP, session affinity, Ingress timeouts / body size / path) → direct.
 */
export function decideWorkloadOperation(input: WorkloadOperationPolicyInput): WorkloadOperationDecision {
  const { operation: op, spec, dayTwo } = input;
  const controller = spec.kind === 'Deployment' || spec.kind === 'StatefulSet';
  if (op.op === 'scale' || op.op === 'stop' || op.op === 'start') {
    if (!controller) return deny(`a ${spec.kind} has no replica count to ${op.op}`, 'operation.op');
    if (spec.hpa)
      return deny(
        `workload ${spec.name} is scaled by its HPA (${spec.hpa.minReplicas}-${spec.hpa.maxReplicas}); change the HPA with a deploy ticket`,
        op.op === 'scale' ? 'operation.replicas' : 'operation.op',
      );
    if (op.op === 'start' && spec.replicas > 0) return deny(`workload ${spec.name} is not stopped (${spec.replicas} replicas)`, 'operation.op');
    if (op.op === 'stop' && spec.replicas === 0) return deny(`workload ${spec.name} is already stopped`, 'operation.op');
    const next = specAfter(spec, op, dayTwo);
    const field = op.op === 'scale' ? 'operation.replicas' : 'operation.op';
    const rwo = storageViolations(next, input.namespace, input.workloads).find((v) => v.rule === STORAGE_RULES.rwoReplicas);
    if (rwo) return deny(rwo.message, field);
    const grow = next.replicas - spec.replicas;
    if (grow > 0 && input.quota) {
      const need: Quota = {
        cpu: input.perReplica.cpu * grow,
        memoryGi: input.perReplica.memoryGi * grow,
        pods: grow,
        storageGi: (input.perReplica.storageGi ?? 0) * grow,
      };
      for (const r of ['cpu', 'memoryGi', 'pods', 'storageGi'] as const) {
        if (r === 'storageGi' && !need.storageGi) continue;
        const hard = input.quota.hard[r];
        if (hard === undefined) continue;
        const after = Math.round(((input.quota.used[r] ?? 0) + (need[r] ?? 0)) * 1000) / 1000;
        if (after > hard) return deny(`quota: ${r} would be ${after} of ${hard} in ${input.namespace} at ${next.replicas} replicas`, field);
      }
    }
    return direct(op.op === 'scale' ? `scale ${spec.replicas} → ${op.replicas} within quota` : `${op.op} (${spec.replicas} → ${next.replicas} replicas)`);
  }
  if (op.op === 'restart') {
    if (!controller) return deny(`a ${spec.kind} cannot be restarted`, 'operation.op');
    return direct('rollout restart');
  }
  if (op.op === 'delete') {
    const users = input.volumeUsers ?? [];
    if (users.length > 0) {
      const owned = (spec.volumes ?? [])
        .filter(isOwnedVolume)
        .map((v) => v.name)
        .join(', ');
      return deny(`storage rule ${STORAGE_RULES.volumeInUse}: volume ${owned} is mounted by ${users.join(', ')} and cannot be deleted`, 'operation.op');
    }
    return vdcAdmin(`delete workload ${spec.name}`);
  }
  if (!spec.service && spec.kind !== 'Deployment' && spec.kind !== 'StatefulSet') return deny(`a ${spec.kind} has no service`, 'operation.access.service');
  const before = spec.service;
  const after = op.access.service;
  const exposedNow = EXPOSED.has(after.type);
  const exposureChanged =
    exposedNow &&
    (before?.type !== after.type ||
      (after.nodePort !== undefined && before?.nodePort !== after.nodePort) ||
      (after.loadBalancerIP ?? '') !== (before?.loadBalancerIP ?? ''));
  if (exposureChanged)
    return vdcAdmin(
      `expose ${spec.name} as ${after.type}${after.nodePort ? ` on node port ${after.nodePort}` : ''}${after.loadBalancerIP ? ` at ${after.loadBalancerIP}` : ''}`,
    );
  const ing = op.access.ingress;
  if (ing && (ing.host !== spec.ingress?.host || (ing.tlsSecretName ?? '') !== (spec.ingress?.tlsSecretName ?? '')))
    return vdcAdmin(`publish ${spec.name} at host ${ing.host}${ing.tlsSecretName ? ' (TLS)' : ''}`);
  return direct('access change inside the cluster or of existing routes');
}

/** The ticket policy of `workload-operation`: the same decision; a `direct` one is auto-approved. */
export function decideWorkloadOperationTicket(input: WorkloadOperationPolicyInput): TicketDecision {
  const d = decideWorkloadOperation(input);
  if (d.outcome === 'direct') return { version: d.version, outcome: 'auto-approve', reason: d.reason, chain: [] };
  return d;
}

/** Recorded workloads of the namespace that mount (as `existing`) a volume `spec` owns. Pure. */
export function recordedVolumeUsers(spec: WorkloadSpec, namespace: string, workloads: readonly ExistingWorkload[]): string[] {
  const owned = new Set((spec.volumes ?? []).filter(isOwnedVolume).map((v) => v.name));
  return workloads
    .filter((w) => w.namespace === namespace && w.name !== spec.name && (w.spec.volumes ?? []).some((v) => !isOwnedVolume(v) && owned.has(v.name)))
    .map((w) => `workload ${w.name}`)
    .sort();
}
