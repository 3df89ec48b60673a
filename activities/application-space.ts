import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ROLES, type RoleBinding } from '../common/roles.ts';
import { SPACE_ERRORS, type SpaceRef } from '../common/space-workflow.ts';
import type { VdcRef } from '../common/ticket-workflow.ts';
import { quotaOfNamespace } from '../common/tenancy.ts';
import type { Quota, SpacePreview } from '../common/tickets.ts';
import type { Store } from '../store/index.ts';
import { costPreviewer } from './cost-preview.ts';
import { FAILPOINTS, type Failpoint } from '../infra/failpoints.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { applyQuota as applyResourceQuota } from '../infra/kube/quota.ts';
import { stableJson } from '../infra/kube/workload.ts';
import {
  applyObject,
  createNamespaceIfAbsent,
  deleteNamespace,
  limitRange,
  listWorkloads,
  OIDC_USER_PREFIX,
  readNamespace,
  roleBinding,
  SPACE_LABELS,
  SPACE_ROLE_BINDINGS,
  TICKET_ANNOTATION,
  type SpaceClusterRole,
} from '../infra/kube/space.ts';

export interface SpaceActivityDeps {
  /** Clients of the pool each namespace lives on (a new space: the VDC's primary pool). */
  pools: PoolClients;
  store: Store;
  crashPoint: (name: Failpoint, firstAttempt?: boolean) => void;
}

/** Arguments naming one space of one VDC; every space activity takes them (ids, never manifests). */
export interface SpaceArgs {
  vdc: VdcRef;
  space: SpaceRef;
}

/** Edgeport's labels on a space's namespace and objects; they win over tenant labels of the same key. */
export function spaceLabels(vdc: VdcRef, space: SpaceRef, tenant: Record<string, string> = {}): Record<string, string> {
  return {
    ...tenant,
    [SPACE_LABELS.vdc]: vdc.id,
    [SPACE_LABELS.domain]: vdc.domainId,
    [SPACE_LABELS.space]: space.name,
    [SPACE_LABELS.managedBy]: 'edgeport',
  };
}

/** Hash of what an approver decides on: action, namespace, labels and (delete) what is in it. */
export function spacePreviewHash(action: SpacePreview['action'], namespace: string, labels: Record<string, string>, workloads: readonly string[]): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([action, namespace, sorted, [...workloads].sort()]))
    .digest('hex')
    .slice(0, 32);
}

/** Whether the namespace carries this VDC's and space's labels (a namespace Edgeport made for it). */
const ownedBy = (labels: Record<string, string> | undefined, vdc: VdcRef, space: SpaceRef): boolean =>
  labels?.[SPACE_LABELS.vdc] === vdc.id && labels?.[SPACE_LABELS.space] === space.name;

/**
 * Who gets which ClusterRole in a space, from the role bindings that cover the VDC (strongest wins):
 * `admin` ← VDC admins of the VDC and domain admins of its domain; `edit` ← VDC users; `view` ← any other
 * role bound on the VDC (custom roles). Platform-scoped roles get nothing here: operators use their own
 * cluster credentials. Users appear as `oidc:<sub>`.
 */
export function spaceSubjects(users: readonly { _id: string; bindings: readonly RoleBinding[] }[], vdc: VdcRef): Record<SpaceClusterRole, string[]> {
  const rank: Record<SpaceClusterRole, number> = { admin: 3, edit: 2, view: 1 };
  const best = new Map<string, SpaceClusterRole>();
  for (const u of users) {
    for (const b of u.bindings) {
      const onVdc = b.scope.type === 'vdc' && b.scope.vdcId === vdc.id;
      const onDomain = b.scope.type === 'domain' && b.scope.domainId === vdc.domainId;
      let role: SpaceClusterRole | undefined;
      if ((onVdc && b.role === ROLES.vdcAdmin) || (onDomain && b.role === ROLES.domainAdmin)) role = 'admin';
      else if (onVdc && b.role === ROLES.vdcUser) role = 'edit';
      else if (onVdc) role = 'view';
      const current = best.get(u._id);
      if (role && (!current || rank[role] > rank[current])) best.set(u._id, role);
    }
  }
  const out: Record<SpaceClusterRole, string[]> = { admin: [], edit: [], view: [] };
  for (const [sub, role] of [...best].sort(([a], [b]) => a.localeCompare(b))) out[role].push(`${OIDC_USER_PREFIX}${sub}`);
  return out;
}

/** Activities of the application space process; idempotent, keyed by the namespace and the ticket id. */
export function createSpaceActivities(deps: SpaceActivityDeps) {
  const { pools, store, crashPoint } = deps;
  const pricing = costPreviewer(store);
  /** The pool a space lives on: the one recorded for it, else (not recorded yet) the VDC's primary pool. */
  const kubeOf = (args: SpaceArgs) => pools.forNamespace(args.vdc.id, args.space.namespace);

  /** Reads the VDC's quota as recorded now and server-side applies it as the space's ResourceQuota. */
  async function applyRecordedQuota(args: SpaceArgs): Promise<Quota> {
    const vdc = await store.vdcs.get(args.vdc.id);
    if (!vdc) throw ApplicationFailure.nonRetryable(`VDC ${args.vdc.id} no longer exists`, SPACE_ERRORS.vdcMissing);
    const quota = quotaOfNamespace(vdc, args.space.namespace);
    await applyResourceQuota(await kubeOf(args), args.space.namespace, quota, { [SPACE_LABELS.vdc]: args.vdc.id, [SPACE_LABELS.space]: args.space.name });
    return quota;
  }

  /** Applies the recorded quota until a re-read after the apply finds it unchanged (a few rounds at most). */
  async function settleSpaceQuota(args: SpaceArgs): Promise<void> {
    let applied = await applyRecordedQuota(args);
    for (let round = 0; round < 5; round++) {
      const vdc = await store.vdcs.get(args.vdc.id);
      const now = vdc ? quotaOfNamespace(vdc, args.space.namespace) : {};
      if (stableJson(now) === stableJson(applied)) return;
      applied = await applyRecordedQuota(args);
    }
    throw new Error(`the quota of VDC ${args.vdc.id} kept changing while space ${args.space.name} was recorded; retrying`);
  }

  return {
    /** Create preflight: the namespace name must be free in the cluster. Read-only. @throws `SpaceNameTaken` */
    async preflightSpaceCreate(args: SpaceArgs & { labels: Record<string, string> }): Promise<SpacePreview> {
      const kube = await kubeOf(args);
      const existing = await readNamespace(kube, args.space.namespace);
      if (existing) {
        throw ApplicationFailure.nonRetryable(`namespace ${args.space.namespace} already exists in the cluster`, SPACE_ERRORS.nameTaken);
      }
      const labels = spaceLabels(args.vdc, args.space, args.labels);
      return {
        hash: spacePreviewHash('create', args.space.namespace, labels, []),
        action: 'create',
        namespace: args.space.namespace,
        labels,
        workloads: [],
        checkedAt: new Date().toISOString(),
        cost: await pricing.none(),
      };
    },

    /**
     * Delete preflight: the namespace exists, is this VDC's space, and holds nothing but Edgeport's own
     * objects (quota, limits, RBAC). Read-only. @throws `SpaceNotFound`, `SpaceNotOwned`, `SpaceNotEmpty`
     */
    async preflightSpaceDelete(args: SpaceArgs): Promise<SpacePreview> {
      const kube = await kubeOf(args);
      const ns = await readNamespace(kube, args.space.namespace);
      if (!ns) throw ApplicationFailure.nonRetryable(`namespace ${args.space.namespace} does not exist`, SPACE_ERRORS.notFound);
      const labels = ns.metadata?.labels ?? {};
      if (!ownedBy(labels, args.vdc, args.space)) {
        throw ApplicationFailure.nonRetryable(
          `namespace ${args.space.namespace} is not application space ${args.space.name} of VDC ${args.vdc.id}`,
          SPACE_ERRORS.notOwned,
        );
      }
      const workloads = await listWorkloads(kube, args.space.namespace);
      if (workloads.length > 0) {
        const shown = workloads.slice(0, 10).join(', ') + (workloads.length > 10 ? `, … (${workloads.length} in all)` : '');
        throw ApplicationFailure.nonRetryable(`namespace ${args.space.namespace} is not empty: ${shown}`, SPACE_ERRORS.notEmpty, { workloads });
      }
      return {
        hash: spacePreviewHash('delete', args.space.namespace, labels, []),
        action: 'delete',
        namespace: args.space.namespace,
        labels,
        workloads: [],
        checkedAt: new Date().toISOString(),
        cost: await pricing.none(),
      };
    },

    /**
     * Creates the namespace if absent (atomic), then server-side applies its labels. A namespace that exists
     * but was made by anyone but this ticket is refused, so a retry adopts only its own.
     * @throws `SpaceNameTaken`
     */
    async applySpaceNamespace(args: SpaceArgs & { ticketId: string; labels: Record<string, string> }): Promise<{ namespace: string; created: boolean }> {
      const kube = await kubeOf(args);
      const labels = spaceLabels(args.vdc, args.space, args.labels);
      const metadata = { name: args.space.namespace, labels, annotations: { [TICKET_ANNOTATION]: args.ticketId } };
      const outcome = await createNamespaceIfAbsent(kube, { apiVersion: 'v1', kind: 'Namespace', metadata });
      if (outcome === 'exists') {
        const ns = await readNamespace(kube, args.space.namespace);
        if (ns?.metadata?.annotations?.[TICKET_ANNOTATION] !== args.ticketId) {
          throw ApplicationFailure.nonRetryable(`namespace ${args.space.namespace} already exists and was not created by this ticket`, SPACE_ERRORS.nameTaken);
        }
        // Ours but being deleted (a compensation raced a retry): wait for it to go, then create again.
        if (ns.metadata?.deletionTimestamp) throw new Error(`namespace ${args.space.namespace} is terminating`);
      }
      await applyObject(kube, { apiVersion: 'v1', kind: 'Namespace', metadata });
      return { namespace: args.space.namespace, created: outcome === 'created' };
    },

    /** Server-side applies the VDC's quota (as recorded now) as the space's ResourceQuota. @throws `VdcNotFound` */
    async applySpaceQuota(args: SpaceArgs): Promise<{ quota: Quota }> {
      return { quota: await applyRecordedQuota(args) };
    },

    /** Server-side applies the space's LimitRange (container default requests and limits). */
    async applySpaceLimits(args: SpaceArgs): Promise<{ name: string }> {
      const kube = await kubeOf(args);
      const lr = await applyObject(kube, limitRange(args.space.namespace, spaceLabels(args.vdc, args.space)));
      return { name: lr.metadata?.name ?? '' };
    },

    /**
     * Server-side applies the space's RoleBindings to the ClusterRoles admin/edit/view for the VDC's
     * members as they are now (see `spaceSubjects`); the subject lists are replaced whole.
     */
    async applySpaceRbac(args: SpaceArgs): Promise<{ bindings: { name: string; clusterRole: SpaceClusterRole; users: string[] }[] }> {
      crashPoint(FAILPOINTS.workerFailSpaceRbac, Context.current().info.attempt === 1);
      const [onVdc, onDomain] = await Promise.all([
        store.users.withScope({ type: 'vdc', vdcId: args.vdc.id }),
        store.users.withScope({ type: 'domain', domainId: args.vdc.domainId }),
      ]);
      const byId = new Map([...onVdc, ...onDomain].map((u) => [u._id, u]));
      const subjects = spaceSubjects([...byId.values()], args.vdc);
      const labels = spaceLabels(args.vdc, args.space);
      const bindings = [];
      for (const { name, clusterRole } of SPACE_ROLE_BINDINGS) {
        await applyObject(await kubeOf(args), roleBinding(args.space.namespace, name, clusterRole, subjects[clusterRole], labels));
        bindings.push({ name, clusterRole, users: subjects[clusterRole] });
      }
      return { bindings };
    },

    /** Records the space on its VDC as active. Idempotent. @throws `VdcNotFound` */
    /**
     * Records the space on its VDC, then settles its ResourceQuota on the VDC's quota as recorded now.
     * A quota change records the new quota before it lists the spaces to apply it to, so a space created
     * concurrently is either in that list or reads the new quota here; re-reading after each apply closes
     * the window where this apply of an older quota lands after the change's apply of the newer one.
     */
    async recordSpace(args: SpaceArgs & { ticketId: string }): Promise<void> {
      const pool = (await kubeOf(args)).pool;
      const ok = await store.spaces.record(args.vdc.id, {
        name: args.space.name,
        namespace: args.space.namespace,
        status: 'active',
        ticketId: args.ticketId,
        createdAt: new Date().toISOString(),
        pool,
      });
      if (!ok) throw ApplicationFailure.nonRetryable(`VDC ${args.vdc.id} no longer exists`, SPACE_ERRORS.vdcMissing);
      await settleSpaceQuota(args);
    },

    async markSpaceDeleting(args: SpaceArgs): Promise<void> {
      await store.spaces.setStatus(args.vdc.id, args.space.name, 'deleting');
    },

    /** Removes the space's record; with `createdBy`, only the record that ticket wrote (compensation). */
    async unrecordSpace(args: SpaceArgs & { createdBy?: string }): Promise<void> {
      await store.spaces.remove(args.vdc.id, args.space.name, args.createdBy);
    },

    /**
     * Deletes the space's namespace and waits until it is gone, heartbeating while the namespace
     * controller empties it. Only a namespace with this space's labels (and, with `createdBy`, made by that
     * ticket) is deleted; otherwise returns `not-owned` and touches nothing. Safe to retry at any point.
     */
    async deleteSpaceNamespace(args: SpaceArgs & { createdBy?: string }): Promise<{ outcome: 'deleted' | 'absent' | 'not-owned' }> {
      const kube = await kubeOf(args);
      const ctx = Context.current();
      let ns = await readNamespace(kube, args.space.namespace);
      if (!ns) return { outcome: 'absent' };
      const madeByTicket = args.createdBy === undefined || ns.metadata?.annotations?.[TICKET_ANNOTATION] === args.createdBy;
      if (!ownedBy(ns.metadata?.labels, args.vdc, args.space) || !madeByTicket) return { outcome: 'not-owned' };
      if (!ns.metadata?.deletionTimestamp) await deleteNamespace(kube, args.space.namespace, ns.metadata?.uid);
      for (;;) {
        ctx.heartbeat(ns.status?.phase ?? 'deleting');
        await ctx.sleep(500);
        ns = await readNamespace(kube, args.space.namespace);
        if (!ns) return { outcome: 'deleted' };
      }
    },
  };
}
export type SpaceActivities = ReturnType<typeof createSpaceActivities>;
