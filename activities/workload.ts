import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { VdcRef } from '../common/ticket-workflow.ts';
import { namespacesOnPool, poolOfNamespace, quotaOfNamespace } from '../common/tenancy.ts';
import type { Quota } from '../common/tickets.ts';
import {
  isOwnedVolume,
  KIND_API_VERSION,
  podCount,
  STORAGE_RULES,
  WORKLOAD_ERRORS,
  WORKLOAD_LABELS,
  type PlannedObject,
  type WorkloadPreview,
  type WorkloadSpec,
} from '../common/workload.ts';
import { storageViolations, volumeChangeProblems } from '../policies/workload.ts';
import { storageQuotaProblem, workloadStorageGi } from '../policies/storage-quota.ts';
import type { Store } from '../store/index.ts';
import { costPreviewer } from './cost-preview.ts';
import { FAILPOINTS, type Failpoint } from '../infra/failpoints.ts';
import { workloadMeteringFact, type WorkloadMeteringFact } from './ledger/workloads.ts';
import { archesOf, imageDeployProblems, placementProblems, workloadTargetNodes } from '../infra/registry/deploy-gate.ts';
import type { AnyRegistryRuntime } from '../infra/registry/runtime.ts';
import { mapKubeError, type KubeClients } from '../infra/kube/client.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { missingConfigRefs } from '../infra/kube/config-refs.ts';
import { parseQuantity } from '../infra/kube/quantity.ts';
import { readQuota } from '../infra/kube/quota.ts';
import {
  applyWorkloadObject,
  claimUsers,
  deleteObject,
  dryRunPreview,
  pruneCandidates,
  readObject,
  rolloutState,
  workloadObjects,
  workloadPods,
  workloadRequests,
} from '../infra/kube/workload.ts';

export interface WorkloadActivityDeps {
  /** Clients of the pool each namespace lives on. */
  pools: PoolClients;
  store: Store;
  crashPoint: (name: Failpoint, firstAttempt?: boolean) => void;
  /** Edgeport's registry: images on it are checked at preflight (scan, architecture, signature). */
  registry?: AnyRegistryRuntime;
}

/** One revision of one workload in one namespace of a VDC; every workload activity takes these. */
export interface WorkloadArgs {
  vdc: VdcRef;
  namespace: string;
  ticketId: string;
  spec: WorkloadSpec;
  revision: number;
}

/** The resources a LimitRange of the namespace gives containers a default limit for (cpu, memory). */
async function containerDefaults(kube: KubeClients, namespace: string): Promise<Set<string>> {
  let items: { spec?: { limits?: { type?: string; _default?: Record<string, unknown> }[] } }[];
  try {
    items = (await kube.core.listNamespacedLimitRange({ namespace })).items;
  } catch (err) {
    return mapKubeError(err, `list LimitRanges in ${namespace}`);
  }
  return new Set(items.flatMap((lr) => (lr.spec?.limits ?? []).filter((l) => l.type === 'Container').flatMap((l) => Object.keys(l._default ?? {}))));
}

/**
 * A ResourceQuota on cpu / memory makes the kube-apiserver refuse every pod whose containers do not state
 * that limit, unless a LimitRange supplies a default (application spaces get one; a VDC's first namespace
 * may not). Caught here, or the ticket would pass preflight and fail when its rollout times out.
 */
export function missingLimitProblems(spec: WorkloadSpec, hard: Quota, namespace: string, defaulted: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [key, resource] of [
    ['cpu', 'cpu'],
    ['memoryGi', 'memory'],
  ] as const) {
    if (hard[key] === undefined || defaulted.has(resource)) continue;
    for (const c of spec.containers) {
      if (c.limits?.[resource] === undefined)
        out.push(
          `quota: container ${c.name} sets no ${resource} limit; the ResourceQuota of ${namespace} bounds ${resource} limits and no LimitRange there gives a default, so its pods would be refused`,
        );
    }
  }
  return out;
}

const objectKey = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;

interface PodTemplateHolder {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: {
    template?: { spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } };
    jobTemplate?: { spec?: { template?: { spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } } } };
  };
}

/** Activities of the workload process (deploy, upgrade, rollback); idempotent, keyed by namespace, name and ticket. */
export function createWorkloadActivities(deps: WorkloadActivityDeps) {
  const { pools, store, crashPoint } = deps;
  const pricing = costPreviewer(store);
  const kubeOf = (namespace: string) => pools.forOwnedNamespace(namespace);

  /** Controllers of the namespace (Deployments, StatefulSets, Jobs, CronJobs) with the claims their pods mount. */
  async function liveControllers(kube: KubeClients, namespace: string): Promise<{ name: string; claims: string[] }[]> {
    const out: { name: string; claims: string[] }[] = [];
    for (const kind of ['Deployment', 'StatefulSet', 'Job', 'CronJob'] as const) {
      try {
        const list = await kube.objects.list<PodTemplateHolder & KubernetesObject>(KIND_API_VERSION[kind], kind, namespace);
        for (const item of list.items) {
          const claims = (item.spec?.template?.spec?.volumes ?? item.spec?.jobTemplate?.spec?.template?.spec?.volumes ?? [])
            .map((v) => v.persistentVolumeClaim?.claimName)
            .filter((c): c is string => !!c);
          out.push({ name: item.metadata?.labels?.[WORKLOAD_LABELS.name] ?? item.metadata?.name ?? '', claims });
        }
      } catch (err) {
        mapKubeError(err, `list ${kind} in ${namespace}`);
      }
    }
    return out;
  }

  /** The storage rules against the cluster as it is now (objects made outside Edgeport included). */
  async function liveStorageProblems(kube: KubeClients, spec: WorkloadSpec, namespace: string): Promise<string[]> {
    const problems: string[] = [];
    const controllers = (await liveControllers(kube, namespace)).filter((c) => c.name !== spec.name);
    for (const v of spec.volumes ?? []) {
      const pvc = await readObject<KubernetesObject & { spec?: { accessModes?: string[] } }>(kube, {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: v.name, namespace },
      });
      if (isOwnedVolume(v)) {
        const owner = pvc?.metadata?.labels?.[WORKLOAD_LABELS.name];
        if (pvc && owner !== spec.name) {
          problems.push(
            `storage rule ${STORAGE_RULES.duplicateVolume}: volume ${v.name} already exists in namespace ${namespace}${owner ? ` (workload ${owner})` : ''}`,
          );
          continue;
        }
      }
      const rwo = isOwnedVolume(v) ? v.accessMode === 'ReadWriteOnce' : (pvc?.spec?.accessModes ?? []).includes('ReadWriteOnce');
      const user = controllers.find((c) => c.claims.includes(v.name));
      if (rwo && user)
        problems.push(`storage rule ${STORAGE_RULES.rwoTwoWorkloads}: ReadWriteOnce volume ${v.name} is already mounted by workload ${user.name}`);
    }
    return problems;
  }

  /** The volume-change rules against the live claims (size as requested now, access modes, class). */
  async function liveVolumeChanges(kube: KubeClients, spec: WorkloadSpec, namespace: string): Promise<string[]> {
    type Pvc = KubernetesObject & { spec?: { accessModes?: string[]; storageClassName?: string; resources?: { requests?: { storage?: string } } } };
    const live: WorkloadSpec['volumes'] = [];
    for (const v of (spec.volumes ?? []).filter(isOwnedVolume)) {
      const pvc = await readObject<Pvc>(kube, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: v.name, namespace } });
      const size = pvc?.spec?.resources?.requests?.storage;
      const accessMode = pvc?.spec?.accessModes?.[0];
      if (!pvc || pvc.metadata?.labels?.[WORKLOAD_LABELS.name] !== spec.name || !size || (accessMode !== 'ReadWriteOnce' && accessMode !== 'ReadWriteMany'))
        continue;
      // A size in other units than the schema's (someone resized it by hand) is compared in KiB.
      const liveSize = /^[0-9]+(Ki|Mi|Gi|Ti)$/.test(size) ? size : `${Math.ceil(parseQuantity(size) / 2 ** 10)}Ki`;
      live.push({
        name: v.name,
        size: liveSize,
        accessMode,
        ...(pvc.spec?.storageClassName !== undefined && v.storageClass !== undefined ? { storageClass: pvc.spec.storageClassName } : {}),
      });
    }
    return volumeChangeProblems(spec, { ...spec, volumes: live }).map((p) => p.message);
  }

  return {
    /**
     * Rollback: the spec of the revision to return to (default: the one before the current), from the
     * workload's recorded history. @throws `WorkloadRevisionNotFound`
     */
    async loadWorkloadRevision(args: { namespace: string; name: string; revision?: number }): Promise<{ spec: WorkloadSpec; revision: number }> {
      const w = await store.workloads.get(args.namespace, args.name);
      if (!w) throw ApplicationFailure.nonRetryable(`no workload ${args.name} in ${args.namespace}`, WORKLOAD_ERRORS.revisionNotFound);
      const target = args.revision ?? Math.max(0, ...w.revisions.filter((r) => r.revision < w.revision).map((r) => r.revision));
      const rev = w.revisions.find((r) => r.revision === target);
      if (!rev || target === w.revision)
        throw ApplicationFailure.nonRetryable(`workload ${args.name} has no revision ${target} to roll back to`, WORKLOAD_ERRORS.revisionNotFound);
      return { spec: rev.spec, revision: target };
    },

    /**
     * Read-only preflight: server-side dry-run (`dryRun: All`) of every object, the quota fit of the
     * workload's requests, and the storage rules against Mongo's records and the live cluster. Refusals
     * are collected into `errors` (the workflow fails the ticket on any); transient faults are retried.
     */
    async preflightWorkload(args: Omit<WorkloadArgs, 'revision'> & { action: WorkloadPreview['action'] }): Promise<WorkloadPreview> {
      const kube = await kubeOf(args.namespace);
      const { spec, namespace } = args;
      const current = await store.workloads.get(namespace, spec.name);
      const revision = Math.max(0, ...(current?.revisions ?? []).map((r) => r.revision)) + 1;
      const objects = workloadObjects(spec, { vdcId: args.vdc.id, namespace, ticketId: args.ticketId, revision });
      const planned: PlannedObject[] = [];
      const errors: string[] = [];
      const conflicts: string[] = [];
      const fingerprints: string[] = [];
      if (current && current.kind !== spec.kind) errors.push(`workload ${spec.name} is a ${current.kind}; its kind cannot change to ${spec.kind}`);
      for (const o of objects) {
        const live = await readObject(kube, o);
        planned.push({ kind: o.kind ?? '', name: o.metadata?.name ?? '', action: live ? 'update' : 'create' });
        const outcome = await dryRunPreview(kube, o);
        if ('refused' in outcome) errors.push(outcome.refused);
        else {
          fingerprints.push(outcome.fingerprint);
          if (outcome.conflict) conflicts.push(outcome.conflict);
        }
      }
      for (const o of await pruneCandidates(kube, namespace, spec.name, objects)) {
        planned.push({ kind: o.kind ?? '', name: o.metadata?.name ?? '', action: 'delete' });
        if (o.kind !== 'PersistentVolumeClaim') continue;
        const users = await claimUsers(kube, namespace, o.metadata?.name ?? '', spec.name);
        if (users.length > 0)
          errors.push(`storage rule ${STORAGE_RULES.volumeInUse}: volume ${o.metadata?.name} is mounted by ${users.join(', ')} and cannot be deleted`);
      }
      const recorded = (await store.workloads.list(args.vdc.id)).map((w) => ({ namespace: w.namespace, name: w.name, spec: w.spec }));
      const standalone = await store.volumes.list(args.vdc.id);
      for (const v of storageViolations(spec, namespace, recorded, standalone)) if (!errors.includes(v.message)) errors.push(v.message);
      for (const p of await liveStorageProblems(kube, spec, namespace)) if (!errors.includes(p)) errors.push(p);
      for (const p of await liveVolumeChanges(kube, spec, namespace)) if (!errors.includes(p)) errors.push(p);
      for (const p of await missingConfigRefs(kube, spec, namespace)) if (!errors.includes(p)) errors.push(p);
      // Where the pods may go on this namespace's pool (its own nodes, selector and taints), and what the images must run on.
      const targets = await workloadTargetNodes(kube.core, kube.pool, spec);
      if (podCount(spec) > 0) for (const p of placementProblems(args.vdc.id, kube.pool, spec, targets)) if (!errors.includes(p)) errors.push(p);
      if (deps.registry) {
        const rt = deps.registry;
        for (const p of await imageDeployProblems(
          { driver: rt.driver, scans: store.imageScans, registryHost: rt.host, policy: rt.deployPolicy },
          args.vdc.id,
          spec.containers,
          { arches: archesOf(targets) },
        ))
          errors.push(p.message);
      }

      // Storage is quota: the claims the workload owns (claim templates × replicas) must fit the VDC's storage quota on this pool.
      const vdcRecord = await store.vdcs.get(args.vdc.id);
      const storageGi = workloadStorageGi(spec);
      if (vdcRecord && storageGi > (current ? workloadStorageGi(current.spec) : 0)) {
        const pool = poolOfNamespace(vdcRecord, namespace);
        const problem = storageQuotaProblem({
          quota: quotaOfNamespace(vdcRecord, namespace),
          pool,
          records: { volumes: standalone, workloads: recorded },
          namespaces: namespacesOnPool(vdcRecord, pool),
          what: `workload ${spec.name}`,
          afterGi: storageGi,
          except: `workload ${namespace}/${spec.name}`,
        });
        if (problem) errors.push(`quota: ${problem}`);
      }
      const requests = workloadRequests(spec);
      const quota = await readQuota(kube, namespace);
      if (quota.exists) {
        for (const p of missingLimitProblems(spec, quota.hard, namespace, await containerDefaults(kube, namespace))) if (!errors.includes(p)) errors.push(p);
        const freed = current ? workloadRequests(current.spec) : { cpu: 0, memoryGi: 0, pods: 0 };
        for (const r of ['cpu', 'memoryGi', 'pods'] as const) {
          const hard = quota.hard[r];
          if (hard === undefined) continue;
          const after = Math.round(((quota.used[r] ?? 0) - freed[r] + requests[r]) * 1000) / 1000;
          if (after > hard) errors.push(`quota: ${r} would be ${after} of ${hard} in ${namespace} (the workload needs ${requests[r]})`);
        }
      }
      // The hash covers what the kube-apiserver would make of every object (dry-run), not only what was asked:
      // an object edited out of band after approval changes it, and execution sends the ticket back.
      const hash = createHash('sha256')
        .update(JSON.stringify([args.action, namespace, objects, errors, planned, conflicts, fingerprints]))
        .digest('hex')
        .slice(0, 32);
      return {
        hash,
        action: args.action,
        namespace,
        workload: spec.name,
        revision,
        ...(current ? { previousRevision: current.revision } : {}),
        image: spec.containers.map((c) => c.image),
        objects: planned,
        requests,
        errors,
        ...(conflicts.length > 0 ? { conflicts } : {}),
        cost: await pricing.workload(kube.pool, current?.spec, spec),
        checkedAt: new Date().toISOString(),
      };
    },

    /** Server-side applies every object of the revision, in order (field manager `edgeport`). */
    async applyWorkload(args: WorkloadArgs): Promise<{ applied: string[] }> {
      const kube = await kubeOf(args.namespace);
      const objects = workloadObjects(args.spec, { vdcId: args.vdc.id, namespace: args.namespace, ticketId: args.ticketId, revision: args.revision });
      for (const o of objects) await applyWorkloadObject(kube, o);
      return { applied: objects.map(objectKey) };
    },

    /**
     * Waits (heartbeating) until the controller has rolled the revision out: every replica updated and
     * ready. @throws `WorkloadRolloutFailed` when the Deployment reports its progress deadline exceeded or
     * `timeoutMs` passes.
     */
    async waitWorkloadRollout(args: { namespace: string; kind: WorkloadSpec['kind']; name: string; timeoutMs: number }): Promise<{ pods: string[] }> {
      const kube = await kubeOf(args.namespace);
      const ctx = Context.current();
      crashPoint(FAILPOINTS.workerFailWorkloadRollout, ctx.info.attempt === 1);
      const deadline = Date.now() + args.timeoutMs;
      const ref = { apiVersion: KIND_API_VERSION[args.kind], kind: args.kind, metadata: { name: args.name, namespace: args.namespace } };
      for (;;) {
        const obj = await readObject<Parameters<typeof rolloutState>[1] & KubernetesObject>(kube, ref);
        if (!obj)
          throw ApplicationFailure.nonRetryable(`${args.kind} ${args.namespace}/${args.name} disappeared during rollout`, WORKLOAD_ERRORS.rolloutFailed);
        const { state, detail } = rolloutState(args.kind, obj);
        ctx.heartbeat(detail);
        if (state === 'done') {
          const pods = await workloadPods(kube, args.namespace, args.name);
          return {
            pods: pods
              .filter((p) => p.phase === 'Running')
              .map((p) => p.name)
              .sort(),
          };
        }
        if (state === 'failed') throw ApplicationFailure.nonRetryable(`rollout of ${args.name} failed: ${detail}`, WORKLOAD_ERRORS.rolloutFailed);
        if (Date.now() > deadline)
          throw ApplicationFailure.nonRetryable(
            `rollout of ${args.name} not done within ${Math.round(args.timeoutMs / 1000)} s (${detail})`,
            WORKLOAD_ERRORS.rolloutFailed,
          );
        await ctx.sleep(1000);
      }
    },

    /**
     * Deletes the objects of the previous revision the new spec dropped, as the preview planned them
     * (`action: delete`), once the new revision is rolled out. Only objects still labelled as this
     * workload's and managed by Edgeport are deleted; a claim another workload or pod mounts now is
     * refused (`WorkloadVolumeInUse`, storage rule `volume-in-use`). Idempotent (absent = done).
     * Compensation is the restore of the previous revision, which applies the deleted objects again.
     */
    async pruneWorkload(args: { namespace: string; name: string; objects: PlannedObject[] }): Promise<{ deleted: string[] }> {
      const kube = await kubeOf(args.namespace);
      const ctx = Context.current();
      const candidates = await pruneCandidates(kube, args.namespace, args.name, []);
      const planned = args.objects.filter((p) => p.action === 'delete');
      const doomed = candidates.filter((c) => planned.some((p) => p.kind === c.kind && p.name === c.metadata?.name));
      for (const o of doomed.filter((c) => c.kind === 'PersistentVolumeClaim')) {
        const users = await claimUsers(kube, args.namespace, o.metadata?.name ?? '', args.name);
        if (users.length > 0) {
          throw ApplicationFailure.nonRetryable(
            `storage rule ${STORAGE_RULES.volumeInUse}: volume ${o.metadata?.name} is mounted by ${users.join(', ')} and cannot be deleted`,
            WORKLOAD_ERRORS.volumeInUse,
          );
        }
      }
      const deleted: string[] = [];
      for (const o of doomed) {
        await deleteObject(kube, o);
        deleted.push(objectKey(o));
      }
      crashPoint(FAILPOINTS.workerFailWorkloadPrune, ctx.info.attempt === 1);
      return { deleted };
    },

    /** Records the rolled-out revision as the workload's current one (idempotent per ticket). */
    async recordWorkload(args: WorkloadArgs): Promise<{ metered: WorkloadMeteringFact }> {
      await store.workloads.recordRevision({
        vdcId: args.vdc.id,
        namespace: args.namespace,
        name: args.spec.name,
        kind: args.spec.kind,
        revision: args.revision,
        spec: args.spec,
        ticketId: args.ticketId,
      });
      // What the workload requests from now on, in history for the ledger (`activities/ledger/workloads.ts`),
      // on the pool its namespace lives on (a further pool's namespace bills there, not on the primary pool).
      const owner = await store.vdcs.byAnyNamespace(args.namespace);
      const vdc = owner ? { ...args.vdc, pool: poolOfNamespace(owner, args.namespace) } : args.vdc;
      return {
        metered: workloadMeteringFact(vdc, { namespace: args.namespace, name: args.spec.name, kind: args.spec.kind }, args.spec, new Date().toISOString()),
      };
    },

    /** Compensation of `recordWorkload`: removes the revision this ticket recorded. */
    async unrecordWorkload(args: { namespace: string; name: string; ticketId: string }): Promise<void> {
      await store.workloads.removeRevision(args.namespace, args.name, args.ticketId);
    },

    /**
     * Compensation of `applyWorkload`: re-applies the revision that was current before (an upgrade rolls
     * back to it), then deletes the objects this ticket created (those the preview planned as `create`
     * that still carry this ticket's label) and waits, heartbeating, until they and their pods are gone.
     */
    async undoWorkload(args: WorkloadArgs & { created: PlannedObject[] }): Promise<{ restored?: number; deleted: string[] }> {
      const kube = await kubeOf(args.namespace);
      const ctx = Context.current();
      const previous = await store.workloads.get(args.namespace, args.spec.name);
      const prev = previous?.revisions.filter((r) => r.ticketId !== args.ticketId).at(-1);
      if (prev) {
        for (const o of workloadObjects(prev.spec, { vdcId: args.vdc.id, namespace: args.namespace, ticketId: prev.ticketId, revision: prev.revision }))
          await applyWorkloadObject(kube, o);
      }
      const mine = workloadObjects(args.spec, { vdcId: args.vdc.id, namespace: args.namespace, ticketId: args.ticketId, revision: args.revision });
      const toDelete = mine.filter((o) => args.created.some((c) => c.action === 'create' && c.kind === o.kind && c.name === o.metadata?.name)).reverse();
      const deleted: string[] = [];
      for (const o of toDelete) {
        const live = await readObject(kube, o);
        if (!live || live.metadata?.labels?.[WORKLOAD_LABELS.ticket] !== args.ticketId) continue;
        await deleteObject(kube, o);
        deleted.push(objectKey(o));
      }
      const controllerGone = toDelete.some((o) => o.kind === args.spec.kind);
      for (;;) {
        const left: string[] = [];
        for (const o of toDelete) if (await readObject(kube, o)) left.push(objectKey(o));
        if (controllerGone) left.push(...(await workloadPods(kube, args.namespace, args.spec.name)).map((p) => `Pod/${p.name}`));
        if (left.length === 0) break;
        ctx.heartbeat(left.join(', '));
        await ctx.sleep(500);
      }
      return { ...(prev ? { restored: prev.revision } : {}), deleted };
    },
  };
}
export type WorkloadActivities = ReturnType<typeof createWorkloadActivities>;
