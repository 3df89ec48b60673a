import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Quota, QuotaDiffLine, QuotaPreview, QuotaResource } from '../common/tickets.ts';
import { QUOTA_RESOURCES } from '../common/tickets.ts';
import type { VdcRef } from '../common/quota-change-workflow.ts';
import type { Store } from '../store/index.ts';
import type { TicketProjection } from '../store/tickets.ts';
import { FAILPOINTS, type Failpoint } from './failpoints.ts';
import type { KubeClients } from './kube/client.ts';
import { applyQuota as applyResourceQuota, readQuota } from './kube/quota.ts';
import { ledgerLinesFromHistory, type ApplyQuotaResult } from './ledger-from-history.ts';

export interface QuotaActivityDeps {
  kube: KubeClients;
  store: Store;
  /** Reads workflow histories for the ledger (the ledger is derived from history, not from arguments). */
  temporal: Client;
  crashPoint: (name: Failpoint, firstAttempt?: boolean) => void;
}

/** Hash of what an approver decides on: the namespace, the quota in force and the requested values. */
export function previewHash(namespace: string, current: Quota, requested: Quota): string {
  const canon = (q: Quota) => QUOTA_RESOURCES.map((r) => [r, q[r] ?? null]);
  return createHash('sha256').update(JSON.stringify([namespace, canon(current), canon(requested)])).digest('hex').slice(0, 32);
}

export function mergeQuota(current: Quota, requested: Quota): Quota {
  const out: Quota = { ...current };
  for (const r of QUOTA_RESOURCES) if (requested[r] !== undefined) out[r] = requested[r];
  return out;
}

/** Activities of the quota-change process, built once per worker over injected clients. */
export function createQuotaActivities(deps: QuotaActivityDeps) {
  const { kube, store, temporal, crashPoint } = deps;
  return {
    /** Reads the namespace's ResourceQuota (hard and used) and records the diff approvers will see. Read-only. */
    async preflightQuota(args: { namespace: string; requested: Quota }): Promise<QuotaPreview> {
      const reading = await readQuota(kube, args.namespace);
      const diff: QuotaDiffLine[] = (Object.keys(args.requested) as QuotaResource[])
        .filter((r) => args.requested[r] !== undefined)
        .map((r) => ({ resource: r, from: reading.hard[r] ?? null, to: args.requested[r] as number, used: reading.used[r] ?? null }));
      return {
        hash: previewHash(args.namespace, reading.hard, args.requested),
        namespace: args.namespace,
        current: reading.hard,
        used: reading.used,
        requested: args.requested,
        diff,
        checkedAt: new Date().toISOString(),
      };
    },

    /** Projects workflow state onto the ticket document; ordered by `seq`, so retries are harmless. */
    async projectTicket(args: { ticketId: string; seq: number; patch: TicketProjection }): Promise<void> {
      await store.tickets.project(args.ticketId, args.seq, args.patch);
    },

    /**
     * Applies the merged quota: records it on the VDC and server-side applies the namespace's
     * ResourceQuota. Both writes are idempotent, so a retry after a crash leaves one effective apply.
     */
    async applyQuota(args: { vdc: VdcRef; current: Quota; requested: Quota }): Promise<ApplyQuotaResult> {
      const ctx = Context.current();
      ctx.heartbeat('applying');
      const quota = mergeQuota(args.current, args.requested);
      await store.vdcs.setQuota(args.vdc.id, quota);
      await applyResourceQuota(kube, args.vdc.namespace, quota, { 'edgeport.io/vdc': args.vdc.id });
      crashPoint(FAILPOINTS.workerAfterApply, ctx.info.attempt === 1);
      return {
        vdcId: args.vdc.id,
        domainId: args.vdc.domainId,
        pool: args.vdc.pool,
        namespace: args.vdc.namespace,
        quota,
        appliedAt: new Date().toISOString(),
      };
    },

    /**
     * Writes the ledger lines of this workflow run, derived from its own history (so a rebuild from
     * history yields the same lines). Idempotent on the provenance key.
     */
    async recordLedger(args: { ticketId: string }): Promise<{ lineIds: string[] }> {
      const history = await temporal.workflow.getHandle(args.ticketId).fetchHistory();
      const lines = ledgerLinesFromHistory(args.ticketId, history);
      for (const line of lines) await store.ledger.upsert(line);
      return { lineIds: lines.map((l) => l._id) };
    },
  };
}
export type QuotaActivities = ReturnType<typeof createQuotaActivities>;
