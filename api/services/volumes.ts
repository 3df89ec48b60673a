import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { liveClaims } from '../../infra/kube/volumes.ts';
import type { AuditLog } from '../../common/audit.ts';
import { namespacesOnPool, poolOfNamespace, quotaOfNamespace, vdcPools } from '../../common/tenancy.ts';
import {
  VOLUME_ERRORS,
  volumeWorkflowId,
  type CreateVolume,
  type ExpandVolume,
  type LiveClaim,
  type VolumeRecord,
  type VolumeView,
} from '../../common/volumes.ts';
import { isOwnedVolume } from '../../common/workload.ts';
import { volumeCreateViolations, volumeDeleteViolations, volumeResizeProblem } from '../../policies/workload.ts';
import { sizeGi, storageQuotaProblem } from '../../policies/storage-quota.ts';
import type { Store } from '../../store/index.ts';
import type { volumeApplyWorkflow, volumeDeleteWorkflow, volumeListWorkflow } from '../../workflows/volumes.ts';
import { ConflictError, HttpError, InputError, NotFoundError, PolicyDeniedError } from '../errors.ts';
import type { Caller } from './caller.ts';
import type { PoolReaders } from './pool-reads.ts';

export interface VolumeServiceDeps {
  store: Store;
  temporal: Client;
  taskQueue: string;
  audit: AuditLog;
  /** Execution timeout (ms) of one volume workflow. */
  timeoutMs?: number;
  /**
   * The pools' read-only identities the list reads claims with (each namespace on its own pool, as the
   * workload reads do). Without them the list asks the worker through volumeListWorkflow.
   */
  readers?: PoolReaders;
}

export interface VolumeRequestMeta {
  ip?: string;
}

const actorOf = (c: Caller) => ({ sub: c.sub, name: c.name });
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

class UpstreamFailure extends HttpError {
  constructor(status: 502 | 504, msg: string) {
    super(status, status === 504 ? 'Gateway Timeout' : 'Bad Gateway', msg);
  }
}

/** The one mapping of a failed volume workflow to an HTTP error; storage-rule refusals name the rule and the field. */
function fromWorkflowFailure(err: unknown, what: string): never {
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  if (cause instanceof ApplicationFailure) {
    if (cause.type === VOLUME_ERRORS.inUse) throw new PolicyDeniedError(cause.message, [{ field: 'name', message: cause.message }]);
    if (cause.type === VOLUME_ERRORS.exists) throw new ConflictError(cause.message);
    if (cause.type === 'KubernetesRefused') throw new PolicyDeniedError(`${what}: the kube-apiserver refused: ${cause.message}`);
  }
  if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) throw new UpstreamFailure(504, `${what}: no answer in time`);
  throw new UpstreamFailure(502, `${what}: ${message(cause ?? err)}`);
}

/**
 * Standalone volumes (PVCs) of a VDC: create, expand (grow only), delete when unused, list with who
 * mounts them. Direct actions: the record is written, then a short workflow applies it on the worker
 * (the API never writes to Kubernetes; the list reads claims directly when given clients); a refusal
 * undoes the record. The seed's storage rules are the
 * ones in `policies/workload.ts` (over Mongo's records) and `claimUsers` (over the live cluster).
 */
export function volumeService(deps: VolumeServiceDeps) {
  const { store, temporal, taskQueue, audit } = deps;
  const volumes = store.volumes;
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const rand = (): string => randomBytes(4).toString('hex');

  const run = async <T>(what: string, start: () => Promise<T>): Promise<T> => {
    try {
      return await start();
    } catch (err) {
      return fromWorkflowFailure(err, what);
    }
  };
  const apply = (vdcId: string, v: VolumeRecord, purpose: 'create' | 'expand') =>
    run(`${purpose} volume ${v.name}`, () =>
      temporal.workflow.execute<typeof volumeApplyWorkflow>('volumeApplyWorkflow', {
        taskQueue,
        workflowId: volumeWorkflowId(vdcId, purpose, rand()),
        args: [vdcId, v.namespace, v.name],
        workflowExecutionTimeout: timeoutMs,
      }),
    );

  const vdcOf = async (vdcId: string) => {
    const vdc = await store.vdcs.get(vdcId);
    if (!vdc) throw new NotFoundError();
    return vdc;
  };

  /**
   * Refuses (422 naming `size` and the `requests.storage` quota) a volume of `size` in `namespace` that would
   * take the VDC's requested storage on that namespace's pool above its storage quota there. `except` is the
   * volume being expanded (its old size no longer counts). The kube-apiserver enforces the same quota per
   * namespace through the ResourceQuota; this check covers the whole pool and says which quota.
   */
  async function checkStorageQuota(vdc: Awaited<ReturnType<typeof vdcOf>>, namespace: string, name: string, size: string, except?: string): Promise<void> {
    const pool = poolOfNamespace(vdc, namespace);
    const [records, workloads] = await Promise.all([volumes.list(vdc._id), store.workloads.list(vdc._id)]);
    const problem = storageQuotaProblem({
      quota: quotaOfNamespace(vdc, namespace),
      pool,
      records: { volumes: records, workloads },
      namespaces: namespacesOnPool(vdc, pool),
      what: `volume ${name} (${size})`,
      afterGi: sizeGi(size),
      ...(except ? { except } : {}),
    });
    if (problem) throw new PolicyDeniedError(problem, [{ field: 'size', message: problem }]);
  }

  /** The standalone volume of that name, or a 409 naming the workload whose deploy owns it, or a 404. */
  async function standalone(vdcId: string, name: string): Promise<VolumeRecord> {
    const v = (await volumes.list(vdcId)).find((x) => x.name === name);
    if (v) return v;
    const owner = (await store.workloads.list(vdcId)).find((w) => (w.spec.volumes ?? []).some((o) => isOwnedVolume(o) && o.name === name));
    if (owner) throw new ConflictError(`volume ${name} belongs to workload ${owner.name} (${owner.namespace}); change it through that workload's deploy`);
    throw new NotFoundError(`no volume ${name} in this VDC`);
  }

  const record = (
    caller: Caller,
    meta: VolumeRequestMeta,
    action: string,
    vdcId: string,
    v: { namespace: string; name: string },
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
  ) => audit.append({ actor: actorOf(caller), action, target: `vdc:${vdcId}/volume:${v.namespace}/${v.name}`, outcome, details, ...meta });

  return {
    async vdcScope(vdcId: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await vdcOf(vdcId);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    /** Standalone and workload-owned volumes of the VDC with live phase, capacity and who mounts each. */
    async list(vdcId: string): Promise<VolumeView[]> {
      const vdc = await vdcOf(vdcId);
      const namespaces = [
        ...new Set([...vdcPools(vdc).map((p) => p.namespace), ...(vdc.spaces ?? []).filter((s) => s.status === 'active').map((s) => s.namespace)]),
      ];
      const byPool = new Map<string, string[]>();
      for (const ns of namespaces) byPool.set(poolOfNamespace(vdc, ns), [...(byPool.get(poolOfNamespace(vdc, ns)) ?? []), ns]);
      const readers = deps.readers;
      const [records, workloads, live] = await Promise.all([
        volumes.list(vdcId),
        store.workloads.list(vdcId),
        readers
          ? Promise.all([...byPool].map(([pool, nss]) => readers.read(pool, 'list volume claims', (kube) => liveClaims(kube, nss)))).then((r) => r.flat())
          : run('list volumes', () =>
              temporal.workflow.execute<typeof volumeListWorkflow>('volumeListWorkflow', {
                taskQueue,
                workflowId: volumeWorkflowId(vdcId, 'list', rand()),
                args: [namespaces],
                workflowExecutionTimeout: timeoutMs,
              }),
            ),
      ]);
      const claim = (ns: string, name: string): LiveClaim | undefined => live.find((c) => c.namespace === ns && c.name === name);
      const mounters = (ns: string, name: string, owner?: string): string[] => {
        const recorded = workloads
          .filter((w) => w.namespace === ns && (w.name === owner || (w.spec.volumes ?? []).some((o) => !isOwnedVolume(o) && o.name === name)))
          .map((w) => `workload ${w.name}`);
        return [...new Set([...recorded, ...(claim(ns, name)?.users ?? [])])].sort();
      };
      const liveOf = (ns: string, name: string) => {
        const c = claim(ns, name);
        return { ...(c?.phase ? { phase: c.phase } : {}), ...(c?.capacity ? { capacity: c.capacity } : {}) };
      };
      const out: VolumeView[] = records.map((v) => ({
        namespace: v.namespace,
        name: v.name,
        managedBy: 'volume',
        size: v.size,
        accessMode: v.accessMode,
        ...((v.storageClass ?? claim(v.namespace, v.name)?.storageClass) ? { storageClass: v.storageClass ?? claim(v.namespace, v.name)?.storageClass } : {}),
        ...liveOf(v.namespace, v.name),
        mountedBy: mounters(v.namespace, v.name),
      }));
      for (const w of workloads) {
        for (const v of (w.spec.volumes ?? []).filter(isOwnedVolume)) {
          out.push({
            namespace: w.namespace,
            name: v.name,
            managedBy: 'workload',
            owner: w.name,
            size: v.size,
            accessMode: v.accessMode,
            ...((v.storageClass ?? claim(w.namespace, v.name)?.storageClass)
              ? { storageClass: v.storageClass ?? claim(w.namespace, v.name)?.storageClass }
              : {}),
            ...liveOf(w.namespace, v.name),
            mountedBy: mounters(w.namespace, v.name, w.name),
          });
        }
      }
      return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    },

    async create(caller: Caller, vdcId: string, body: CreateVolume, meta: VolumeRequestMeta): Promise<VolumeRecord> {
      const vdc = await vdcOf(vdcId);
      let namespace = vdc.namespace;
      if (body.space !== undefined) {
        const space = (vdc.spaces ?? []).find((s) => s.name === body.space && s.status === 'active');
        if (!space)
          throw new InputError(`invalid request: space: no active application space ${body.space} in this VDC`, [
            { field: 'space', message: `no active application space ${body.space} in this VDC` },
          ]);
        namespace = space.namespace;
      }
      const existing = (await store.workloads.list(vdcId)).map((w) => ({ namespace: w.namespace, name: w.name, spec: w.spec }));
      const [violation] = volumeCreateViolations(body.name, existing, await volumes.list(vdcId));
      if (violation) throw new PolicyDeniedError(violation.message, [{ field: violation.field, message: violation.message }]);
      await checkStorageQuota(vdc, namespace, body.name, body.size);
      const v: VolumeRecord = {
        vdcId,
        namespace,
        name: body.name,
        size: body.size,
        accessMode: body.accessMode,
        ...(body.storageClass ? { storageClass: body.storageClass } : {}),
        createdAt: new Date().toISOString(),
        createdBy: actorOf(caller),
      };
      if (!(await volumes.insert(v))) throw new ConflictError(`storage rule unique-volume-name: volume ${body.name} already exists in this VDC`);
      const details = { size: v.size, accessMode: v.accessMode, ...(v.storageClass ? { storageClass: v.storageClass } : {}) };
      try {
        await apply(vdcId, v, 'create');
      } catch (err) {
        await volumes.remove(v.namespace, v.name);
        await record(caller, meta, 'volume.create', vdcId, v, 'failure', { ...details, reason: message(err), rolledBack: true });
        throw err;
      }
      await record(caller, meta, 'volume.create', vdcId, v, 'success', details);
      return v;
    },

    async expand(caller: Caller, vdcId: string, name: string, body: ExpandVolume, meta: VolumeRequestMeta): Promise<VolumeRecord> {
      const v = await standalone(vdcId, name);
      const problem = volumeResizeProblem(name, v.size, body.size);
      if (problem) throw new InputError(`invalid request: size: ${problem}`, [{ field: 'size', message: problem }]);
      await checkStorageQuota(await vdcOf(vdcId), v.namespace, name, body.size, `volume ${v.namespace}/${v.name}`);
      if (!(await volumes.setSize(v.namespace, v.name, v.size, body.size))) throw new ConflictError(`volume ${name} changed meanwhile; reload and try again`);
      const details = { from: v.size, to: body.size };
      try {
        await apply(vdcId, { ...v, size: body.size }, 'expand');
      } catch (err) {
        await volumes.setSize(v.namespace, v.name, body.size, v.size);
        await record(caller, meta, 'volume.expand', vdcId, v, 'failure', { ...details, reason: message(err), rolledBack: true });
        throw err;
      }
      await record(caller, meta, 'volume.expand', vdcId, v, 'success', details);
      return { ...v, size: body.size };
    },

    async remove(caller: Caller, vdcId: string, name: string, meta: VolumeRequestMeta): Promise<void> {
      const v = await standalone(vdcId, name);
      const existing = (await store.workloads.list(vdcId)).map((w) => ({ namespace: w.namespace, name: w.name, spec: w.spec }));
      try {
        const [violation] = volumeDeleteViolations(name, v.namespace, existing);
        if (violation) throw new PolicyDeniedError(violation.message, [{ field: violation.field, message: violation.message }]);
        await run(`delete volume ${name}`, () =>
          temporal.workflow.execute<typeof volumeDeleteWorkflow>('volumeDeleteWorkflow', {
            taskQueue,
            workflowId: volumeWorkflowId(vdcId, 'delete', rand()),
            args: [vdcId, v.namespace, v.name],
            workflowExecutionTimeout: timeoutMs,
          }),
        );
      } catch (err) {
        await record(caller, meta, 'volume.delete', vdcId, v, 'failure', { reason: message(err) });
        throw err;
      }
      await volumes.remove(v.namespace, v.name);
      await record(caller, meta, 'volume.delete', vdcId, v, 'success', { size: v.size });
    },
  };
}
export type VolumeService = ReturnType<typeof volumeService>;
