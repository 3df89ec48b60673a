import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import type { AuditLog } from '../../common/audit.ts';
import {
  networkWorkflowId,
  type ChangeMembers,
  type CreateSecurityGroup,
  type NetworkSyncResult,
  type RenderedPolicyView,
  type SecurityGroup,
  type SecurityRule,
  type SpaceNetworkDefault,
  type SpaceNetworkView,
  type UpdateSecurityGroup,
  type WorkloadRef,
} from '../../common/network.ts';
import type { Store } from '../../store/index.ts';
import type { networkPoliciesWorkflow, networkSyncWorkflow } from '../../workflows/network.ts';
import { ConflictError, HttpError, InputError, NotFoundError, PolicyDeniedError } from '../errors.ts';
import type { Caller } from './caller.ts';

export interface NetworkServiceDeps {
  store: Store;
  temporal: Client;
  taskQueue: string;
  audit: AuditLog;
  /** Execution timeout (ms) of one sync or read workflow. */
  timeoutMs?: number;
}

export interface NetworkRequestMeta {
  ip?: string;
}

type FieldError = { field: string; message: string };

const actorOf = (c: Caller) => ({ sub: c.sub, name: c.name });
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const refKey = (r: WorkloadRef): string => `${r.namespace}/${r.name}`;

/** The kube-apiserver or the worker could not be reached in time, or failed in a way a retry did not fix. */
class UpstreamFailure extends HttpError {
  constructor(status: 502 | 504, msg: string) {
    super(status, status === 504 ? 'Gateway Timeout' : 'Bad Gateway', msg);
  }
}

/** The one mapping of a failed network workflow to an HTTP error. */
function fromWorkflowFailure(err: unknown, what: string): never {
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  if (cause instanceof ApplicationFailure && cause.type === 'KubernetesRefused')
    throw new PolicyDeniedError(`${what}: the kube-apiserver refused: ${cause.message}`);
  if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) throw new UpstreamFailure(504, `${what}: no answer in time`);
  throw new UpstreamFailure(502, `${what}: ${message(cause ?? err)}`);
}

/**
 * Security groups and space network defaults. Every change is a direct action: validated, stored, then
 * applied synchronously by a short workflow on the worker (the API never talks to Kubernetes). When the
 * kube-apiserver refuses, the stored change is undone and the VDC synchronised again, so nothing stays
 * half-applied; either way the change is audited. Routes have already checked permission and VDC scope.
 */
export function networkService(deps: NetworkServiceDeps) {
  const { store, temporal, taskQueue, audit } = deps;
  const groups = store.network;
  // The unique (VDC, name) index; awaited before the first insert.
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const rand = (): string => randomBytes(4).toString('hex');

  const sync = async (vdcId: string): Promise<NetworkSyncResult> => {
    try {
      return await temporal.workflow.execute<typeof networkSyncWorkflow>('networkSyncWorkflow', {
        taskQueue,
        workflowId: networkWorkflowId(vdcId, 'sync', rand()),
        args: [vdcId],
        workflowExecutionTimeout: timeoutMs,
      });
    } catch (err) {
      return fromWorkflowFailure(err, 'applying the network policies');
    }
  };

  const vdcOf = async (vdcId: string) => {
    const vdc = await store.vdcs.get(vdcId);
    if (!vdc) throw new NotFoundError();
    return vdc;
  };

  const groupOf = async (vdcId: string, id: string): Promise<SecurityGroup> => {
    const g = await groups.get(id);
    if (!g || g.vdcId !== vdcId) throw new NotFoundError('no such security group');
    return g;
  };

  /** Peers must exist and belong to the VDC; problems name the field (`rules[2].peer.group`). */
  async function ruleProblems(vdcId: string, rules: readonly SecurityRule[], self?: string): Promise<FieldError[]> {
    const vdc = await vdcOf(vdcId);
    const spaces = new Set((vdc.spaces ?? []).map((s) => s.name));
    const out: FieldError[] = [];
    for (const [i, r] of rules.entries()) {
      const p = r.peer;
      if (p.kind === 'group' && p.group !== self) {
        const g = await groups.get(p.group);
        if (!g || g.vdcId !== vdcId) out.push({ field: `rules[${i}].peer.group`, message: `no security group ${p.group} in this VDC` });
      } else if (p.kind === 'workload') {
        const w = await store.workloads.get(p.namespace, p.name);
        if (!w || w.vdcId !== vdcId) out.push({ field: `rules[${i}].peer.name`, message: `no workload ${p.name} in namespace ${p.namespace} of this VDC` });
      } else if (p.kind === 'space' && !spaces.has(p.space)) {
        out.push({ field: `rules[${i}].peer.space`, message: `no application space ${p.space} in this VDC` });
      }
    }
    return out;
  }

  const refuse = (problems: FieldError[]): never => {
    throw new InputError(`invalid request: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  };

  /**
   * Stores a change, applies it, and undoes the stored change if applying fails (then synchronises
   * again so the cluster matches what is stored). Audited with the outcome.
   */
  async function commit<T>(
    caller: Caller,
    vdcId: string,
    meta: NetworkRequestMeta,
    entry: { action: string; target: string; details?: Record<string, unknown> },
    write: () => Promise<T>,
    undo: () => Promise<void>,
  ): Promise<T> {
    const result = await write();
    try {
      const applied = await sync(vdcId);
      await audit.append({
        actor: actorOf(caller),
        action: entry.action,
        target: entry.target,
        outcome: 'success',
        details: { ...entry.details, applied: applied.applied.length, deleted: applied.deleted },
        ...meta,
      });
      return result;
    } catch (err) {
      await undo();
      let restored = true;
      try {
        await sync(vdcId);
      } catch {
        restored = false;
      }
      await audit.append({
        actor: actorOf(caller),
        action: entry.action,
        target: entry.target,
        outcome: 'failure',
        details: { ...entry.details, reason: message(err), rolledBack: true, clusterRestored: restored },
        ...meta,
      });
      throw err;
    }
  }

  const target = (vdcId: string, groupId?: string): string => `vdc:${vdcId}${groupId ? `/security-group:${groupId}` : ''}`;

  return {
    /** The VDC's scope for the permission check; an unknown VDC is a 404. */
    async vdcScope(vdcId: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await vdcOf(vdcId);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    list: (vdcId: string): Promise<SecurityGroup[]> => groups.list(vdcId),

    get: (vdcId: string, id: string): Promise<SecurityGroup> => groupOf(vdcId, id),

    async create(caller: Caller, vdcId: string, body: CreateSecurityGroup, meta: NetworkRequestMeta): Promise<SecurityGroup> {
      const problems = await ruleProblems(vdcId, body.rules);
      if (problems.length) refuse(problems);
      const now = new Date().toISOString();
      const g: SecurityGroup = {
        id: `sg-${randomBytes(5).toString('hex')}`,
        vdcId,
        name: body.name,
        ...(body.description ? { description: body.description } : {}),
        rules: body.rules,
        members: [],
        revision: 1,
        createdAt: now,
        updatedAt: now,
      };
      // A group without members renders nothing, so creating one needs no sync; it is audited all the same.
      if (!(await groups.insert(g))) throw new ConflictError(`a security group named ${body.name} already exists in this VDC`);
      await audit.append({
        actor: actorOf(caller),
        action: 'security-group.create',
        target: target(vdcId, g.id),
        outcome: 'success',
        details: { name: g.name, rules: g.rules.length },
        ...meta,
      });
      return g;
    },

    async update(caller: Caller, vdcId: string, id: string, body: UpdateSecurityGroup, meta: NetworkRequestMeta): Promise<SecurityGroup> {
      const before = await groupOf(vdcId, id);
      const problems = await ruleProblems(vdcId, body.rules, id);
      if (problems.length) refuse(problems);
      const after: SecurityGroup = { ...before, rules: body.rules, revision: before.revision + 1, updatedAt: new Date().toISOString() };
      if (body.description !== undefined) after.description = body.description;
      return commit(
        caller,
        vdcId,
        meta,
        { action: 'security-group.update', target: target(vdcId, id), details: { name: before.name, rules: body.rules.length } },
        async () => {
          if (!(await groups.replace(after, before.revision))) throw new ConflictError('the security group changed meanwhile; reload and try again');
          return after;
        },
        async () => void (await groups.replace(before, after.revision)),
      );
    },

    async changeMembers(caller: Caller, vdcId: string, id: string, body: ChangeMembers, meta: NetworkRequestMeta): Promise<SecurityGroup> {
      const before = await groupOf(vdcId, id);
      const problems: FieldError[] = [];
      for (const [i, r] of body.add.entries()) {
        const w = await store.workloads.get(r.namespace, r.name);
        if (!w || w.vdcId !== vdcId) problems.push({ field: `add[${i}]`, message: `no workload ${r.name} in namespace ${r.namespace} of this VDC` });
      }
      const current = new Set(before.members.map(refKey));
      for (const [i, r] of body.remove.entries()) {
        if (!current.has(refKey(r))) problems.push({ field: `remove[${i}]`, message: `workload ${r.name} in namespace ${r.namespace} is not a member` });
      }
      if (problems.length) refuse(problems);
      const removed = new Set(body.remove.map(refKey));
      const members = [...before.members.filter((m) => !removed.has(refKey(m)))];
      for (const r of body.add) if (!members.some((m) => refKey(m) === refKey(r))) members.push({ namespace: r.namespace, name: r.name });
      members.sort((a, b) => refKey(a).localeCompare(refKey(b)));
      const after: SecurityGroup = { ...before, members, revision: before.revision + 1, updatedAt: new Date().toISOString() };
      return commit(
        caller,
        vdcId,
        meta,
        {
          action: 'security-group.members',
          target: target(vdcId, id),
          details: { name: before.name, added: body.add.map(refKey), removed: body.remove.map(refKey) },
        },
        async () => {
          if (!(await groups.replace(after, before.revision))) throw new ConflictError('the security group changed meanwhile; reload and try again');
          return after;
        },
        async () => void (await groups.replace(before, after.revision)),
      );
    },

    async remove(caller: Caller, vdcId: string, id: string, meta: NetworkRequestMeta): Promise<void> {
      const before = await groupOf(vdcId, id);
      const users = (await groups.list(vdcId)).filter((g) => g.id !== id && g.rules.some((r) => r.peer.kind === 'group' && r.peer.group === id));
      if (users.length)
        throw new ConflictError(`security group ${before.name} is a peer in the rules of ${users.map((g) => g.name).join(', ')}; change those rules first`);
      await commit(
        caller,
        vdcId,
        meta,
        { action: 'security-group.delete', target: target(vdcId, id), details: { name: before.name } },
        async () => {
          if (!(await groups.remove(id, before.revision))) throw new ConflictError('the security group changed meanwhile; reload and try again');
        },
        async () => void (await groups.insert(before)),
      );
    },

    /** The NetworkPolicies rendered for the group, read back from the kube-apiserver. */
    async policies(vdcId: string, id: string): Promise<RenderedPolicyView[]> {
      await groupOf(vdcId, id);
      try {
        return await temporal.workflow.execute<typeof networkPoliciesWorkflow>('networkPoliciesWorkflow', {
          taskQueue,
          workflowId: networkWorkflowId(vdcId, 'read', rand()),
          args: [vdcId, id],
          workflowExecutionTimeout: timeoutMs,
        });
      } catch (err) {
        return fromWorkflowFailure(err, 'reading the network policies');
      }
    },

    /** Every application space of the VDC with its default ingress policy. */
    async spaceDefaults(vdcId: string): Promise<SpaceNetworkView[]> {
      const vdc = await vdcOf(vdcId);
      const set = new Map((await groups.listDefaults(vdcId)).map((d) => [d.space, d.policy]));
      return (vdc.spaces ?? []).map((s) => ({ space: s.name, namespace: s.namespace, policy: set.get(s.name) ?? 'allow-all' }));
    },

    async setSpaceDefault(caller: Caller, vdcId: string, space: string, policy: SpaceNetworkDefault, meta: NetworkRequestMeta): Promise<SpaceNetworkView> {
      const vdc = await vdcOf(vdcId);
      const s = (vdc.spaces ?? []).find((x) => x.name === space);
      if (!s) throw new NotFoundError(`no application space ${space} in this VDC`);
      const previous = (await groups.listDefaults(vdcId)).find((d) => d.space === space)?.policy ?? 'allow-all';
      await commit(
        caller,
        vdcId,
        meta,
        { action: 'network.space-default', target: `vdc:${vdcId}/space:${space}`, details: { from: previous, to: policy } },
        () => groups.setDefault(vdcId, space, s.namespace, policy),
        () => groups.setDefault(vdcId, space, s.namespace, previous),
      );
      return { space, namespace: s.namespace, policy };
    },
  };
}
export type NetworkService = ReturnType<typeof networkService>;
