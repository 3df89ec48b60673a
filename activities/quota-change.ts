import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { poolOfNamespace } from '../common/tenancy.ts';
import type { Quota, QuotaDiffLine, QuotaPreview, QuotaResource } from '../common/tickets.ts';
import { QUOTA_RESOURCES } from '../common/tickets.ts';
import type { VdcRef } from '../common/quota-change-workflow.ts';
import { netOfLeases } from '../common/quota-lease-workflow.ts';
import type { Store } from '../store/index.ts';
import { costPreviewer } from './cost-preview.ts';
import { FAILPOINTS, type Failpoint } from '../infra/failpoints.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { readNamespace } from '../infra/kube/space.ts';
import { applyQuota as applyResourceQuota, readQuota } from '../infra/kube/quota.ts';
import type { ApplyQuotaResult } from './ledger/quota.ts';

/** Failure types of quota preflight (non-retryable: nothing was written, the ticket ends `failed`). */
export const QUOTA_FAILURES = {
  /** The VDC's namespace or its ResourceQuota does not exist on its pool (not provisioned, or removed by hand). */
  notProvisioned: 'QuotaNotProvisioned',
} as const;

export interface QuotaActivityDeps {
  /** Clients of the pool each namespace lives on (the VDC's pool, with that pool's sealed credentials). */
  pools: PoolClients;
  store: Store;
  crashPoint: (name: Failpoint, firstAttempt?: boolean) => void;
}

/** Hash of what an approver decides on: the namespace, the quota in force and the requested values. */
export function previewHash(namespace: string, current: Quota, requested: Quota): string {
  const canon = (q: Quota) => QUOTA_RESOURCES.map((r) => [r, q[r] ?? null]);
  return createHash('sha256')
    .update(JSON.stringify([namespace, canon(current), canon(requested)]))
    .digest('hex')
    .slice(0, 32);
}

export function mergeQuota(current: Quota, requested: Quota): Quota {
  const out: Quota = { ...current };
  for (const r of QUOTA_RESOURCES) if (requested[r] !== undefined) out[r] = requested[r];
  return out;
}

/** Per-resource sum of quotas (usage over several namespaces); a resource none reports stays absent. */
export function sumQuotas(quotas: readonly Quota[]): Quota {
  const out: Quota = {};
  for (const q of quotas) {
    for (const r of QUOTA_RESOURCES) {
      const v = q[r];
      if (v !== undefined) out[r] = Math.round(((out[r] ?? 0) + v) * 1000) / 1000;
    }
  }
  return out;
}

/**
 * The namespaces a VDC's quota is enforced in: its first namespace, then each active application space on the
 * same (primary) pool (a space being deleted is left alone). An unknown namespace (no VDC record) is just itself.
 * Further pools of the VDC carry their own quota (see `vdcPools`) and are not touched by a change of this one.
 */
export async function vdcNamespaces(store: Store, firstNamespace: string, vdcId?: string): Promise<string[]> {
  const vdc = vdcId ? await store.vdcs.get(vdcId) : await store.vdcs.byNamespace(firstNamespace);
  const spaces = (vdc?.spaces ?? []).filter((s) => s.status === 'active' && (s.pool ?? vdc?.pool) === vdc?.pool).map((s) => s.namespace);
  return [...new Set([firstNamespace, ...spaces])];
}

const isNotFoundRefusal = (err: unknown): boolean => err instanceof ApplicationFailure && (err.details?.[0] as { status?: number } | undefined)?.status === 404;

/**
 * Records `quota` on the VDC and server-side applies it as the ResourceQuota of each of the VDC's
 * namespaces. Idempotent (same quota again is a no-op). A space namespace that no longer exists is
 * skipped; the first namespace missing is a `KubernetesRefused` failure. Returns the namespaces applied.
 */
export async function applyVdcQuota(deps: Pick<QuotaActivityDeps, 'pools' | 'store'>, vdc: VdcRef, quota: Quota): Promise<string[]> {
  const { pools, store } = deps;
  await store.vdcs.setQuota(vdc.id, quota);
  const applied: string[] = [];
  for (const ns of await vdcNamespaces(store, vdc.namespace, vdc.id)) {
    try {
      await applyResourceQuota(await pools.forNamespace(vdc.id, ns), ns, quota, { 'edgeport.io/vdc': vdc.id });
      applied.push(ns);
    } catch (err) {
      if (ns === vdc.namespace || !isNotFoundRefusal(err)) throw err;
    }
  }
  return applied;
}

/** Activities of the quota-change process, built once per worker over injected clients. */
export function createQuotaActivities(deps: QuotaActivityDeps) {
  const { pools, store, crashPoint } = deps;
  const pricing = costPreviewer(store);
  return {
    /**
     * Reads the ResourceQuota of every namespace of the VDC (its first namespace and each active
     * application space) and records the diff approvers will see: `current` is the quota in force (the
     * first namespace's), `used` is summed over the namespaces. Read-only, on the VDC's pool.
     * A quota that could not be applied is refused here, before anyone approves: the first namespace or its
     * ResourceQuota missing on the pool (`QuotaNotProvisioned`), the pool unknown or its credentials unreadable.
     */
    async preflightQuota(args: { namespace: string; requested: Quota }): Promise<QuotaPreview> {
      const vdc = await store.vdcs.byNamespace(args.namespace);
      if (!vdc) throw ApplicationFailure.nonRetryable(`no VDC has namespace ${args.namespace}`, 'VdcNotFound');
      const namespaces = await vdcNamespaces(store, args.namespace, vdc._id);
      const kube = await pools.forNamespace(vdc._id, args.namespace);
      const where = `namespace ${args.namespace} on pool ${poolOfNamespace(vdc, args.namespace)}`;
      if (!(await readNamespace(kube, args.namespace))) {
        throw ApplicationFailure.nonRetryable(
          `${where} does not exist: VDC ${vdc._id} is not provisioned (${vdc.provisioning?.state ?? 'no provisioning recorded'}${vdc.provisioning?.reason ? `: ${vdc.provisioning.reason}` : ''})`,
          QUOTA_FAILURES.notProvisioned,
        );
      }
      const readings = await Promise.all(namespaces.map(async (ns) => readQuota(await pools.forNamespace(vdc._id, ns), ns)));
      if (Object.keys(readings[0]?.hard ?? {}).length === 0) {
        throw ApplicationFailure.nonRetryable(
          `${where} has no Edgeport ResourceQuota: VDC ${vdc._id} is not provisioned; retry its provisioning first`,
          QUOTA_FAILURES.notProvisioned,
        );
      }
      const hard = readings[0]?.hard ?? {};
      const used = sumQuotas(readings.map((r) => r.used));
      const diff: QuotaDiffLine[] = (Object.keys(args.requested) as QuotaResource[])
        .filter((r) => args.requested[r] !== undefined)
        .map((r) => ({ resource: r, from: hard[r] ?? null, to: args.requested[r] as number, used: used[r] ?? null }));
      return {
        hash: previewHash(args.namespace, hard, args.requested),
        namespace: args.namespace,
        namespaces,
        current: hard,
        used,
        requested: args.requested,
        diff,
        checkedAt: new Date().toISOString(),
        cost: await pricing.quota(vdc.pool, hard, args.requested),
      };
    },

    /**
     * Applies the merged quota: records it on the VDC and server-side applies the ResourceQuota of every
     * namespace of the VDC (first namespace and application spaces). Every write is idempotent, so a
     * retry after a crash leaves one effective apply.
     */
    async applyQuota(args: { vdc: VdcRef; current: Quota; requested: Quota }): Promise<ApplyQuotaResult> {
      const ctx = Context.current();
      ctx.heartbeat('applying');
      const quota = mergeQuota(args.current, args.requested);
      const namespaces = await applyVdcQuota(deps, args.vdc, quota);
      crashPoint(FAILPOINTS.workerFailQuotaApply, ctx.info.attempt === 1);
      const leases = (await store.vdcs.get(args.vdc.id))?.leases ?? [];
      crashPoint(FAILPOINTS.workerAfterApply, ctx.info.attempt === 1);
      return {
        vdcId: args.vdc.id,
        domainId: args.vdc.domainId,
        pool: args.vdc.pool,
        namespace: args.vdc.namespace,
        namespaces,
        quota,
        ...(leases.length ? { billed: netOfLeases(quota, leases), leases: leases.map((l) => l.ticketId) } : {}),
        appliedAt: new Date().toISOString(),
      };
    },

    /**
     * Compensation of a failed apply: puts the quota in force before the ticket (the approved preview's
     * `current`) back on the VDC record and on every namespace of the VDC. Idempotent like the apply.
     */
    async restoreQuota(args: { vdc: VdcRef; quota: Quota }): Promise<{ namespaces: string[] }> {
      Context.current().heartbeat('restoring');
      return { namespaces: await applyVdcQuota(deps, args.vdc, args.quota) };
    },
  };
}
export type QuotaActivities = ReturnType<typeof createQuotaActivities>;
