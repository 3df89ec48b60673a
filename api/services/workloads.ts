import { randomUUID } from 'node:crypto';
import { Log } from '@kubernetes/client-node';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import type { Response } from 'express';
import { PassThrough } from 'node:stream';
import { spaceNamespace } from '../../common/tickets.ts';
import { poolOfNamespace, vdcPools, type Vdc } from '../../common/tenancy.ts';
import {
  specDiff,
  WORKLOAD_DIRECT_OPERATION_WORKFLOW,
  WORKLOAD_OPERATION_ERRORS,
  type WorkloadDayTwoState,
  type WorkloadDetail,
  type WorkloadEnvView,
  type WorkloadOperationOutcome,
  type WorkloadRevisionView,
  type WorkloadSummary,
  type VdcPoolNodesView,
} from '../../common/workload-ops.ts';
import type { WorkloadOperation } from '../../common/workload-ops.ts';
import type { WorkloadRecord } from '../../common/workload.ts';
import type { NodeView } from '../../common/pools.ts';
import { NODE_JOIN_LABELS } from '../../common/node-join-workflow.ts';
import { readQuota } from '../../infra/kube/quota.ts';
import { eventsOf, liveAccess, liveStatus, podLog, podsOf } from '../../infra/kube/workload-ops.ts';
import { claimUsers, workloadRequests } from '../../infra/kube/workload.ts';
import { workloadStorageGi } from '../../policies/storage-quota.ts';
import { isOwnedVolume } from '../../common/workload.ts';
import { decideWorkloadOperation, recordedVolumeUsers } from '../../policies/workload-operation.ts';
import type { AuditStore } from '../../store/audit.ts';
import type { Store } from '../../store/index.ts';
import type { workloadDirectOperationWorkflow } from '../../workflows/workload-operation.ts';
import { ConflictError, HttpError, NotFoundError, PolicyDeniedError } from '../errors.ts';
import { actorOf, type RequestMeta } from './access.ts';
import type { Caller } from './caller.ts';
import { poolReadFailure, type PoolReaders } from './pool-reads.ts';
import type { TicketService } from './tickets.ts';

export interface WorkloadServiceDeps {
  store: Store;
  audit: AuditStore;
  tickets: TicketService;
  /** The pools' read-only identities: every live read goes to the pool the workload's namespace lives on. */
  readers: PoolReaders;
  /** Direct operations run as a short workflow on the worker (the API never writes to Kubernetes). */
  temporal: Client;
  taskQueue: string;
  /** How long (ms) the API waits for a direct-operation workflow before answering 504 (the workflow goes on). */
  timeoutMs?: number;
  /** The nodes of a pool, read by the worker with the pool's credentials (the read-only identity may not list nodes). */
  poolNodes?: (pool: string) => Promise<NodeView[]>;
}

/** The innermost message of a failed workflow (the activity's own refusal), for the audit entry. */
function failureText(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

/** The worker did not answer in time, or failed in a way its retries did not fix. */
class UpstreamFailure extends HttpError {
  constructor(status: 502 | 504, msg: string) {
    super(status, status === 504 ? 'Gateway Timeout' : 'Bad Gateway', msg);
  }
}

/** Longest tail a log request may ask for. */
export const MAX_TAIL_LINES = 5000;

/**
 * Workloads after deploy: the list and detail views (recorded spec + live objects from the
 * kube-apiserver), pod logs (tail, and follow as server-sent events), and the day-2 operations, each
 * decided by `policies/workload-operation.ts`: applied directly (audited) or submitted as a
 * `workload-operation` ticket. A workload of another VDC is a 404 like a missing one.
 */
export function workloadService(deps: WorkloadServiceDeps) {
  const { store, audit } = deps;
  const { readers } = deps;
  const operations = store.workloadOperations;
  const timeoutMs = deps.timeoutMs ?? 60_000;

  async function vdcOf(vdcId: string) {
    const vdc = await store.vdcs.get(vdcId);
    if (!vdc) throw new NotFoundError();
    return vdc;
  }

  async function load(vdcId: string, namespace: string, name: string): Promise<WorkloadRecord> {
    const w = await store.workloads.get(namespace, name);
    if (!w || w.vdcId !== vdcId) throw new NotFoundError(`no workload ${name} in ${namespace}`);
    return w;
  }

  const spaceOf = (vdc: { _id: string; spaces?: { name: string }[] }, namespace: string): string | undefined =>
    (vdc.spaces ?? []).find((s) => spaceNamespace(vdc._id, s.name) === namespace)?.name;

  /** The further pool a namespace is the VDC's placement namespace on (absent: the primary pool or a space). */
  const placementPoolOf = (vdc: Vdc, namespace: string): string | undefined =>
    vdcPools(vdc)
      .slice(1)
      .find((p) => p.namespace === namespace)?.pool;

  async function summary(vdc: Vdc, w: WorkloadRecord, dayTwo: WorkloadDayTwoState | undefined): Promise<WorkloadSummary> {
    const [live, access] = await readers.inNamespace(vdc, w.namespace, `read workload ${w.namespace}/${w.name}`, (kube) =>
      Promise.all([liveStatus(kube, w.namespace, w.spec), liveAccess(kube, w.namespace, w.spec)]),
    );
    const space = spaceOf(vdc, w.namespace);
    return {
      namespace: w.namespace,
      ...(space ? { space } : {}),
      pool: poolOfNamespace(vdc, w.namespace),
      name: w.name,
      kind: w.kind,
      status: live.status,
      statusDetail: live.detail,
      replicas: { ready: live.ready, desired: live.desired },
      images: live.images.length ? live.images : w.spec.containers.map((c) => c.image),
      revision: w.revision,
      access,
      ticketId: w.revisions.find((r) => r.revision === 1)?.ticketId ?? w.ticketId,
      updatedAt: w.updatedAt,
      ...(dayTwo?.stoppedReplicas !== undefined && w.spec.replicas === 0 ? { stoppedReplicas: dayTwo.stoppedReplicas } : {}),
    };
  }

  function revisionsOf(w: WorkloadRecord): WorkloadRevisionView[] {
    return w.revisions
      .map((r, i) => ({
        revision: r.revision,
        ticketId: r.ticketId,
        at: r.at,
        current: r.revision === w.revision,
        images: r.spec.containers.map((c) => c.image),
        changes: i === 0 ? [] : specDiff(w.revisions[i - 1]?.spec, r.spec),
      }))
      .reverse();
  }

  function envOf(w: WorkloadRecord): WorkloadEnvView[] {
    return w.spec.containers.flatMap((c) =>
      (c.env ?? []).map((e): WorkloadEnvView => {
        if ('value' in e) return { container: c.name, name: e.name, value: e.value };
        if ('configMapRef' in e) return { container: c.name, name: e.name, configMapRef: e.configMapRef };
        return { container: c.name, name: e.name, secretRef: e.secretRef };
      }),
    );
  }

  /** The one mapping of a failed direct-operation workflow to a problem body (typed refusals as before the workflow). */
  function mapFailure(err: unknown, what: string): never {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === WORKLOAD_OPERATION_ERRORS.notFound) throw new NotFoundError(cause.message);
      if (cause.type === WORKLOAD_OPERATION_ERRORS.refused) throw new PolicyDeniedError(cause.message, [{ field: 'operation.op', message: cause.message }]);
      if (cause.type === 'KubernetesRefused') throw new ConflictError(cause.message);
    }
    if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) throw new UpstreamFailure(504, `${what}: no answer in time`);
    throw new UpstreamFailure(502, `${what}: ${cause?.message ?? err.message}`);
  }

  return {
    async scope(vdcId: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await vdcOf(vdcId);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    /**
     * The VDC's pools, each with the nodes joined for the VDC there (labels, taints, architecture) and the
     * architectures of all its nodes: what the deploy form offers as node selection and one-click
     * tolerations. Another VDC's nodes are not listed. A pool whose nodes cannot be read says why.
     */
    async edgeNodes(vdcId: string): Promise<VdcPoolNodesView[]> {
      const vdc = await vdcOf(vdcId);
      return Promise.all(
        vdcPools(vdc).map(async (p, i): Promise<VdcPoolNodesView> => {
          const head = { pool: p.pool, primary: i === 0, namespace: p.namespace };
          if (!deps.poolNodes) return { ...head, architectures: [], nodes: [], unavailable: 'node reads are not configured' };
          let nodes: NodeView[];
          try {
            nodes = await deps.poolNodes(p.pool);
          } catch (err) {
            if (!(err instanceof HttpError)) throw err;
            return { ...head, architectures: [], nodes: [], unavailable: err.message };
          }
          return {
            ...head,
            architectures: [...new Set(nodes.map((n) => n.architecture).filter((a) => a !== 'unknown'))].sort(),
            nodes: nodes
              .filter((n) => n.labels[NODE_JOIN_LABELS.vdc] === vdc._id)
              .map((n) => ({ name: n.name, status: n.status, schedulable: n.schedulable, architecture: n.architecture, labels: n.labels, taints: n.taints })),
          };
        }),
      );
    },

    async list(vdcId: string, space?: string): Promise<WorkloadSummary[]> {
      const vdc = await vdcOf(vdcId);
      const records = (await store.workloads.list(vdcId)).filter((w) => space === undefined || w.namespace === spaceNamespace(vdcId, space));
      const state = await operations.listState(vdcId);
      return Promise.all(records.map((w) => summary(vdc, w, state.get(`${w.namespace}/${w.name}`))));
    },

    async get(vdcId: string, namespace: string, name: string, eventLimit = 100): Promise<WorkloadDetail> {
      const vdc = await vdcOf(vdcId);
      const w = await load(vdcId, namespace, name);
      const dayTwo = await operations.get(namespace, name);
      const [head, { pods, events }] = await Promise.all([
        summary(vdc, w, dayTwo),
        readers.inNamespace(vdc, namespace, `read pods and events of ${namespace}/${name}`, async (kube) => {
          const pods = await podsOf(kube, namespace, name);
          return {
            pods,
            events: await eventsOf(
              kube,
              namespace,
              name,
              pods.map((p) => p.name),
              eventLimit,
            ),
          };
        }),
      ]);
      const s = w.spec;
      return {
        ...head,
        pods,
        events,
        revisions: revisionsOf(w),
        operations: [...dayTwo.operations].reverse(),
        env: envOf(w),
        spec: {
          replicas: s.replicas,
          ...(s.service ? { service: s.service } : {}),
          ...(s.ingress ? { ingress: s.ingress } : {}),
          ...(s.strategy ? { strategy: s.strategy } : {}),
          ...(s.hpa ? { hpa: s.hpa } : {}),
          ...(s.volumes?.length ? { volumes: s.volumes } : {}),
          ...(s.volumeClaimTemplates?.length ? { volumeClaimTemplates: s.volumeClaimTemplates } : {}),
        },
        scheduling: { nodeSelector: s.nodeSelector ?? {}, affinity: s.affinity ?? [], tolerations: s.tolerations ?? [], pool: poolOfNamespace(vdc, namespace) },
        security: s.containers.map((c) => ({ container: c.name, settings: { ...(c.securityContext ?? {}) } })),
      };
    },

    /** The pod and container a log request names, checked to belong to the workload (else 404). */
    async logTarget(vdcId: string, namespace: string, name: string, pod?: string, container?: string): Promise<{ pod: string; container: string }> {
      const [vdc, w] = await Promise.all([vdcOf(vdcId), load(vdcId, namespace, name)]);
      const pods = await readers.inNamespace(vdc, namespace, `list pods of ${namespace}/${name}`, (kube) => podsOf(kube, namespace, name));
      const p = pod ? pods.find((x) => x.name === pod) : (pods.find((x) => x.phase === 'Running') ?? pods[0]);
      if (!p) throw new NotFoundError(pod ? `no pod ${pod} of workload ${name}` : `workload ${name} has no pods`);
      const c = container ?? p.containers[0] ?? w.spec.containers[0]?.name ?? '';
      if (!p.containers.includes(c)) throw new NotFoundError(`no container ${c} in pod ${p.name}`);
      return { pod: p.name, container: c };
    },

    async tail(
      vdcId: string,
      namespace: string,
      name: string,
      q: { pod?: string; container?: string; tailLines: number },
    ): Promise<{ pod: string; container: string; lines: string[] }> {
      const t = await this.logTarget(vdcId, namespace, name, q.pod, q.container);
      const text = await readers.inNamespace(await vdcOf(vdcId), namespace, `read the log of ${namespace}/${t.pod}`, (kube) =>
        podLog(kube, namespace, t.pod, t.container, q.tailLines),
      );
      return { ...t, lines: text.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) };
    },

    /**
     * Follows a container's log as server-sent events (`event: line`, data = one line), starting with the
     * last `tailLines`. The kube stream is aborted when the client goes away, and the response ends when
     * the kube stream does (pod gone).
     */
    async follow(vdcId: string, namespace: string, name: string, q: { pod?: string; container?: string; tailLines: number }, res: Response): Promise<void> {
      const t = await this.logTarget(vdcId, namespace, name, q.pod, q.container);
      const reader = await readers.inNamespace(await vdcOf(vdcId), namespace, 'follow the log', async (r) => r);
      const logApi = new Log(reader.kc);
      res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.flushHeaders();
      res.write(`event: target\ndata: ${JSON.stringify(t)}\n\n`);
      const sink = new PassThrough();
      let buffered = '';
      sink.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const l of lines) res.write(`event: line\ndata: ${JSON.stringify(l)}\n\n`);
      });
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      let abort: AbortController | undefined;
      let closed = false;
      const end = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepAlive);
        abort?.abort();
        if (!res.writableEnded) {
          res.write('event: end\ndata: {}\n\n');
          res.end();
        }
      };
      res.on('close', end);
      sink.on('end', end);
      sink.on('error', end);
      try {
        abort = await logApi.log(namespace, t.pod, t.container, sink, { follow: true, tailLines: q.tailLines });
        if (closed) abort.abort();
      } catch (err) {
        const failure = poolReadFailure(err, reader.pool, `follow the log of ${namespace}/${t.pod}`);
        res.write(`event: error\ndata: ${JSON.stringify({ message: (failure as Error).message })}\n\n`);
        end();
      }
    },

    /**
     * Decides and runs one operation. Direct: applied now by a `workloadDirectOperationWorkflow` (id = the
     * operation id) the API starts and awaits (cluster, record, operation log), audited as
     * `workload.<op>`. Approval: a `workload-operation` ticket is submitted for the caller, audited as
     * `workload.<op>.requested`. Denied: 422 naming the field (audited as a failure); nothing changes.
     */
    async operate(
      caller: Caller,
      vdcId: string,
      namespace: string,
      name: string,
      body: { operation: WorkloadOperation; reason?: string },
      meta: RequestMeta,
    ): Promise<WorkloadOperationOutcome> {
      const vdc = await vdcOf(vdcId);
      const w = await load(vdcId, namespace, name);
      const op = body.operation;
      const dayTwo = await operations.get(namespace, name);
      const workloads = await store.workloads.list(vdcId);
      const { quota, liveUsers } = await readers.inNamespace(vdc, namespace, `read the quota and claims of ${namespace}`, async (kube) => ({
        quota: await readQuota(kube, namespace),
        liveUsers:
          op.op === 'delete'
            ? (await Promise.all((w.spec.volumes ?? []).filter(isOwnedVolume).map((v) => claimUsers(kube, namespace, v.name, name)))).flat()
            : [],
      }));
      const volumeUsers = op.op === 'delete' ? [...new Set([...recordedVolumeUsers(w.spec, namespace, workloads), ...liveUsers])].sort() : [];
      const per = workloadRequests({ ...w.spec, replicas: 1, hpa: undefined, kind: 'Deployment' });
      const decision = decideWorkloadOperation({
        operation: op,
        namespace,
        spec: w.spec,
        dayTwo,
        workloads,
        perReplica: {
          cpu: per.cpu,
          memoryGi: per.memoryGi,
          ...(w.spec.kind === 'StatefulSet' && w.spec.volumeClaimTemplates?.length
            ? { storageGi: workloadStorageGi({ ...w.spec, replicas: 1, hpa: undefined }) - workloadStorageGi({ ...w.spec, replicas: 0, hpa: undefined }) }
            : {}),
        },
        ...(quota.exists ? { quota: { hard: quota.hard, used: quota.used } } : {}),
        volumeUsers,
      });
      const target = `workload:${namespace}/${name}`;
      const base = { actor: actorOf(caller), target, ...meta };
      if (decision.outcome === 'deny') {
        await audit.append({
          ...base,
          action: `workload.${op.op}`,
          outcome: 'failure',
          details: { vdcId, operation: op, policy: decision.version, reason: decision.reason },
        });
        throw new PolicyDeniedError(decision.reason, [{ field: decision.field, message: decision.reason }]);
      }
      if (decision.outcome === 'approval') {
        const space = spaceOf(vdc, namespace);
        const pool = placementPoolOf(vdc, namespace);
        const { ticket } = await deps.tickets.submit(
          caller,
          {
            type: 'workload-operation',
            vdcId,
            name,
            ...(space ? { space } : {}),
            ...(pool ? { pool } : {}),
            operation: op,
            ...(body.reason ? { reason: body.reason } : {}),
          },
          undefined,
        );
        await audit.append({
          ...base,
          action: `workload.${op.op}.requested`,
          outcome: 'success',
          details: { vdcId, operation: op, policy: decision.version, reason: decision.reason, ticketId: ticket.id },
        });
        return { mode: 'ticket', op: op.op, ticketId: ticket.id, reason: decision.reason };
      }
      const opId = `op-${randomUUID()}`;
      let changes: string[];
      try {
        const handle = await deps.temporal.workflow.start<typeof workloadDirectOperationWorkflow>(WORKLOAD_DIRECT_OPERATION_WORKFLOW, {
          taskQueue: deps.taskQueue,
          workflowId: opId,
          args: [{ vdcId, namespace, name, operation: op, opId, actor: actorOf(caller), at: new Date().toISOString() }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        // No execution timeout on the workflow: it always finishes (its ledger write included); only the wait is bounded.
        const result = handle.result();
        result.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new UpstreamFailure(504, `${op.op} ${name}: no answer in ${timeoutMs} ms; operation ${opId} may still complete`)),
            timeoutMs,
          );
        });
        try {
          ({ changes } = await Promise.race([result, late]));
        } finally {
          clearTimeout(timer);
        }
      } catch (err) {
        await audit.append({ ...base, action: `workload.${op.op}`, outcome: 'failure', details: { vdcId, operation: op, opId, error: failureText(err) } });
        return mapFailure(err, `${op.op} ${name}`);
      }
      await audit.append({
        ...base,
        action: `workload.${op.op}`,
        outcome: 'success',
        details: { vdcId, operation: op, opId, policy: decision.version, reason: decision.reason, changes },
      });
      return { mode: 'direct', op: op.op, changes, opId };
    },
  };
}
export type WorkloadService = ReturnType<typeof workloadService>;
