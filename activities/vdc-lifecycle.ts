import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AuditLog } from '../common/audit.ts';
import { vdcRegistryProjects } from '../common/harbor-vdc-provision.ts';
import type { Actor, RoleBinding } from '../common/roles.ts';
import { quotaOfNamespace, vdcPools, type VdcState, type Vdc } from '../common/tenancy.ts';
import type { VdcRef } from '../common/ticket-workflow.ts';
import { VDC_LIFECYCLE_FAILURES, VDC_OWNER_ANNOTATION } from '../common/vdc-lifecycle.ts';
import type { Store } from '../store/index.ts';
import { spaceLabels, spaceSubjects } from './application-space.ts';
import { harborOf } from './harbor-provisioning.ts';
import type { KubeClients } from '../infra/kube/client.ts';
import { VDC_NOT_FOUND, type PoolClients } from '../infra/kube/pool-clients.ts';
import { applyQuota } from '../infra/kube/quota.ts';
import {
  applyObject,
  createNamespaceIfAbsent,
  deleteNamespace,
  limitRange,
  readNamespace,
  roleBinding,
  SPACE_LABELS,
  SPACE_ROLE_BINDINGS,
} from '../infra/kube/space.ts';
import type { AnyRegistryRuntime } from '../infra/registry/runtime.ts';

export interface VdcLifecycleDeps {
  pools: PoolClients;
  store: Store;
  registry?: AnyRegistryRuntime;
}

/** What a pass works through: the VDC's default namespaces (one per pool) and its ticket-made spaces. */
export interface VdcLifecyclePlan {
  exists: boolean;
  state?: VdcState;
  placements: { pool: string; namespace: string }[];
  /** Application spaces created by tickets (active ones: a space being deleted keeps its bindings until gone). */
  spaces: { name: string; namespace: string; pool: string }[];
}

const refOf = (vdc: Vdc): VdcRef => ({ id: vdc._id, name: vdc.name, domainId: vdc.domainId, namespace: vdc.namespace, pool: vdc.pool });

/** Edgeport's labels on a VDC's default namespace and the objects in it. */
export function vdcNamespaceLabels(vdc: Pick<VdcRef, 'id' | 'domainId'>): Record<string, string> {
  return { [SPACE_LABELS.vdc]: vdc.id, [SPACE_LABELS.domain]: vdc.domainId, [SPACE_LABELS.managedBy]: 'edgeport' };
}

/**
 * Whether an existing namespace is this VDC's default namespace: it carries the owner annotation naming the VDC,
 * or (made before the annotation, e.g. by the seed) no owner annotation and Edgeport's VDC label for it. Anything
 * else of that name belongs to someone else and is never adopted, changed or deleted.
 */
export function ownsVdcNamespace(meta: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined, vdcId: string): boolean {
  const owner = meta?.annotations?.[VDC_OWNER_ANNOTATION];
  if (owner !== undefined) return owner === vdcId;
  return meta?.labels?.[SPACE_LABELS.vdc] === vdcId;
}

/**
 * Activities of the VDC lifecycle workflow. Each is idempotent (create-if-absent, server-side apply with
 * Edgeport's field manager, delete tolerating absence), so a retried or repeated pass converges.
 */
export function createVdcLifecycleActivities(deps: VdcLifecycleDeps) {
  const { pools, store } = deps;
  const audit: AuditLog = store.audit;

  async function loadVdc(vdcId: string): Promise<Vdc> {
    const vdc = await store.vdcs.get(vdcId);
    if (!vdc) throw ApplicationFailure.nonRetryable(`VDC ${vdcId} does not exist`, VDC_NOT_FOUND);
    return vdc;
  }

  /** Server-side applies the three RoleBindings of a namespace for the VDC's members as they are now. */
  async function applyMemberBindings(kube: KubeClients, vdc: VdcRef, namespace: string, labels: Record<string, string>): Promise<Record<string, string[]>> {
    const [onVdc, onDomain] = await Promise.all([
      store.users.withScope({ type: 'vdc', vdcId: vdc.id }),
      store.users.withScope({ type: 'domain', domainId: vdc.domainId }),
    ]);
    const subjects = spaceSubjects([...new Map([...onVdc, ...onDomain].map((u) => [u._id, u])).values()], vdc);
    for (const { name, clusterRole } of SPACE_ROLE_BINDINGS) await applyObject(kube, roleBinding(namespace, name, clusterRole, subjects[clusterRole], labels));
    return subjects;
  }

  return {
    /** Reads what a pass has to cover, from the VDC record as it is now. Read-only. */
    async vdcLifecyclePlan(input: { vdcId: string }): Promise<VdcLifecyclePlan> {
      const vdc = await store.vdcs.get(input.vdcId);
      if (!vdc) return { exists: false, placements: [], spaces: [] };
      return {
        exists: true,
        state: vdc.provisioning?.state ?? 'ready',
        placements: vdcPools(vdc).map((p) => ({ pool: p.pool, namespace: p.namespace })),
        spaces: (vdc.spaces ?? []).filter((s) => s.status === 'active').map((s) => ({ name: s.name, namespace: s.namespace, pool: s.pool ?? vdc.pool })),
      };
    },

    /**
     * Ensures the VDC's default namespace on one pool: the Namespace (create-if-absent, labels and owner
     * annotation), its ResourceQuota from the record's quota for that pool, the LimitRange, and the RoleBindings
     * of the VDC's members. A namespace of that name that is not this VDC's is refused, never adopted; one of
     * ours that is terminating is retried until gone. Returns `skipped` when the VDC is being deleted.
     * @throws `VdcNamespaceTaken`, `VdcNotFound`, `PoolNotFound`, `PoolCredentialsUnreadable`, `KubernetesRefused`
     */
    async ensureVdcNamespace(input: {
      vdcId: string;
      pool: string;
      namespace: string;
    }): Promise<{ outcome: 'ok' | 'skipped'; created: boolean; subjects: Record<string, string[]> }> {
      const vdc = await loadVdc(input.vdcId);
      if (vdc.provisioning?.state === 'deleting') return { outcome: 'skipped', created: false, subjects: {} };
      const kube = await pools.forPool(input.pool);
      const ref = refOf(vdc);
      const labels = vdcNamespaceLabels(ref);
      const metadata = { name: input.namespace, labels, annotations: { [VDC_OWNER_ANNOTATION]: vdc._id } };
      const outcome = await createNamespaceIfAbsent(kube, { apiVersion: 'v1', kind: 'Namespace', metadata });
      if (outcome === 'exists') {
        const ns = await readNamespace(kube, input.namespace);
        if (!ownsVdcNamespace(ns?.metadata, vdc._id)) {
          throw ApplicationFailure.nonRetryable(
            `namespace ${input.namespace} already exists on pool ${input.pool} and does not belong to VDC ${vdc._id}`,
            VDC_LIFECYCLE_FAILURES.namespaceTaken,
          );
        }
        if (ns?.metadata?.deletionTimestamp) throw new Error(`namespace ${input.namespace} on pool ${input.pool} is terminating; waiting to create it again`);
      }
      await applyObject(kube, { apiVersion: 'v1', kind: 'Namespace', metadata });
      await applyQuota(kube, input.namespace, quotaOfNamespace(vdc, input.namespace), { [SPACE_LABELS.vdc]: vdc._id });
      await applyObject(kube, limitRange(input.namespace, labels));
      const subjects = await applyMemberBindings(kube, ref, input.namespace, labels);
      return { outcome: 'ok', created: outcome === 'created', subjects };
    },

    /**
     * Replaces the RoleBindings of one ticket-made application space with the VDC's members as they are now.
     * A namespace that is gone (the space being deleted meanwhile) is `absent`, not an error.
     */
    async syncVdcSpaceBindings(input: { vdcId: string; space: string; namespace: string }): Promise<{ outcome: 'ok' | 'absent' | 'skipped' }> {
      const vdc = await loadVdc(input.vdcId);
      if (vdc.provisioning?.state === 'deleting') return { outcome: 'skipped' };
      const kube = await pools.forNamespace(vdc._id, input.namespace);
      const ns = await readNamespace(kube, input.namespace);
      if (!ns || ns.metadata?.deletionTimestamp) return { outcome: 'absent' };
      const ref = refOf(vdc);
      await applyMemberBindings(kube, ref, input.namespace, spaceLabels(ref, { name: input.space, namespace: input.namespace }));
      return { outcome: 'ok' };
    },

    /**
     * Records the outcome of a pass on the VDC (`ready`: also its namespace `active`; `failed` with the reason).
     * Never takes a VDC out of `deleting`. Returns false when that is why nothing was written (or the VDC is gone).
     */
    async recordVdcState(input: { vdcId: string; state: 'ready' | 'failed'; reason?: string }): Promise<boolean> {
      return store.vdcs.setProvisioning(
        input.vdcId,
        { state: input.state, ...(input.reason ? { reason: input.reason } : {}), at: new Date().toISOString() },
        { unlessDeleting: true },
      );
    },

    /** Keeps the VDC `deleting` and records why the deletion stopped (an admin asks again once it is fixed). */
    async recordVdcDeleteFailure(input: { vdcId: string; reason: string; actor?: Actor }): Promise<void> {
      await store.vdcs.setProvisioning(input.vdcId, { state: 'deleting', reason: input.reason, at: new Date().toISOString() });
      await audit.append({
        actor: input.actor ?? null,
        action: 'vdc.delete',
        target: `vdc:${input.vdcId}`,
        outcome: 'failure',
        details: { reason: input.reason },
      });
    },

    /**
     * Deletes the VDC's default namespace on one pool and waits until it is gone (heartbeating while the
     * namespace controller empties it). A namespace of that name that is not this VDC's is left alone
     * (`not-owned`). Safe to retry at any point.
     */
    async deleteVdcNamespace(input: { vdcId: string; pool: string; namespace: string }): Promise<{ outcome: 'deleted' | 'absent' | 'not-owned' }> {
      const kube = await pools.forPool(input.pool);
      const ctx = Context.current();
      let ns = await readNamespace(kube, input.namespace);
      if (!ns) return { outcome: 'absent' };
      if (!ownsVdcNamespace(ns.metadata, input.vdcId)) return { outcome: 'not-owned' };
      if (!ns.metadata?.deletionTimestamp) await deleteNamespace(kube, input.namespace, ns.metadata?.uid);
      for (;;) {
        ctx.heartbeat(ns.status?.phase ?? 'deleting');
        await ctx.sleep(500);
        ns = await readNamespace(kube, input.namespace);
        if (!ns) return { outcome: 'deleted' };
      }
    },

    /**
     * With Harbor as the registry: deletes the VDC's projects (`vdc-<id>`, `staging-<id>`; never the shared
     * `public`) with their repositories and robots, and forgets the robots' sealed secrets. With the local
     * registry: nothing (it has no projects). Idempotent: absent projects are skipped.
     */
    async deleteVdcRegistry(input: {
      vdcId: string;
    }): Promise<{ driver: 'local' | 'harbor'; projects: { name: string; deleted: boolean }[]; robots: number[] }> {
      const harbor = harborOf(deps.registry);
      if (!deps.registry || !harbor) return { driver: 'local', projects: [], robots: [] };
      const names = vdcRegistryProjects(input.vdcId);
      const secrets = store.harborRobotSecrets;
      const projects: { name: string; deleted: boolean }[] = [];
      const robots: number[] = [];
      for (const name of [names.private, names.staging]) {
        if (await harbor.driver.getNamespace(name)) {
          for (const r of await harbor.driver.listRobots(name)) {
            await harbor.driver.deleteRobot(r.id);
            robots.push(r.id);
          }
        }
        projects.push({ name, ...(await harbor.driver.deleteNamespace(name)) });
        await secrets.removeProject(deps.registry.host, name);
      }
      return { driver: 'harbor', projects, robots };
    },

    /**
     * Last step of a deletion: revokes every role binding scoped to the VDC (compare-and-set per user, each one
     * audited as `binding.revoke`), removes the record and audits `vdc.delete`. Idempotent: a VDC already gone
     * only has its leftover bindings revoked.
     */
    async removeVdcRecord(input: { vdcId: string; actor?: Actor }): Promise<{ revoked: number; removed: boolean }> {
      const actor = input.actor ?? null;
      const onVdc = (b: RoleBinding): boolean => b.scope.type === 'vdc' && b.scope.vdcId === input.vdcId;
      let revoked = 0;
      for (const u of await store.users.withScope({ type: 'vdc', vdcId: input.vdcId })) {
        for (let attempt = 0; attempt < 10; attempt++) {
          const user = await store.users.get(u._id);
          const removed = (user?.bindings ?? []).filter(onVdc);
          if (!user || removed.length === 0) break;
          if (
            !(await store.users.replaceBindings(
              u._id,
              user.bindings,
              (user.bindings ?? []).filter((b) => !onVdc(b)),
            ))
          )
            continue;
          for (const b of removed)
            await audit.append({
              actor,
              action: 'binding.revoke',
              target: `user:${u._id}`,
              outcome: 'success',
              details: { role: b.role, scope: b.scope, reason: 'vdc deleted' },
            });
          revoked += removed.length;
          break;
        }
      }
      const vdc = await store.vdcs.get(input.vdcId);
      const removed = await store.vdcs.remove(input.vdcId);
      if (removed)
        await audit.append({
          actor,
          action: 'vdc.delete',
          target: `vdc:${input.vdcId}`,
          outcome: 'success',
          details: { domainId: vdc?.domainId, name: vdc?.name, revokedBindings: revoked },
        });
      return { revoked, removed };
    },
  };
}
export type VdcLifecycleActivities = ReturnType<typeof createVdcLifecycleActivities>;
