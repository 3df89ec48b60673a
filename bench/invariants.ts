import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { NODE_JOIN_LABELS } from '../common/node-join-workflow.ts';
import { FINAL_STATUSES, spaceNamespace, type Quota, type TicketStatus, type TicketType, type Ticket } from '../common/tickets.ts';
import { verifyLedger } from '../services/ledger-verify.ts';
import type { Store } from '../store/index.ts';
import type { LedgerLine } from '../common/billing.ts';

/**
 * The invariant checker of the reliability bench: after a run with crashes, it diffs what MongoDB says
 * (tickets, VDCs, workloads, ledger), what the kube-apiserver holds and what Temporal recorded, and sorts
 * every disagreement into a side effect that is missing ("lost") or present too often ("duplicated"),
 * or a projection that disagrees with its source ("mismatched"). Read-only.
 */

export interface InvariantDeps {
  store: Store;
  temporal: Client;
  /** An admin kubeconfig (reads Nodes and kube-system Secrets). */
  kubeconfig: string;
}

export interface Finding {
  ticketId: string;
  type: TicketType | 'vdc' | 'ledger';
  what: string;
}

export interface InvariantReport {
  tickets: number;
  byStatus: Partial<Record<TicketStatus, number>>;
  /** Tickets not in a final state. */
  notFinal: string[];
  /** Of those, tickets whose workflow has closed (nothing will ever make them final). */
  stuck: { ticketId: string; type: TicketType; status: TicketStatus }[];
  lost: Finding[];
  duplicated: Finding[];
  mismatched: Finding[];
  ledger: { workflowsScanned: number; storedLines: number; rebuiltLines: number; differences: number };
}

/** Ledger lines a ticket of this type must have once completed (and the fact they carry). */
const LEDGER_FACT: Partial<Record<TicketType, LedgerLine['fact']>> = {
  'quota-change': 'quota.allocation.changed',
  'quota-lease': 'quota.lease',
  'node-join': 'node.joined',
};

const sameQuota = (a: Quota, b: Quota): boolean => (['cpu', 'memoryGi', 'pods'] as const).every((k) => (a[k] ?? undefined) === (b[k] ?? undefined));

/**
 * Checks the tickets `ticketIds` (and the VDCs they belong to). Side effects checked per type:
 * - quota-change / quota-lease: a completed ticket has exactly one ledger line of its fact (a lease's with
 *   its end set); a ticket that never executed has none; per VDC, the ResourceQuota of its namespace and of
 *   every active space equals the quota MongoDB holds for the VDC.
 * - space-create / space-delete: the namespace exists (not terminating) and MongoDB lists the space as active
 *   exactly when the last completed ticket of that space created it.
 * - workload-deploy: a completed ticket's Deployment carries its ticket label and is recorded in MongoDB; any
 *   other ticket has no Deployment labelled with it.
 * - node-join: a completed ticket's Node carries the VDC label and has one `node.joined` line; any other has no
 *   Node and no line; no final ticket leaves a bootstrap-token Secret behind.
 * - every ticket: one workflow run (id = ticket id); idempotency keys map to one ticket each; the ledger
 *   rebuilt from the histories equals the stored one (`verifyLedger`).
 */
export async function checkInvariants(deps: InvariantDeps, ticketIds: readonly string[]): Promise<InvariantReport> {
  const { store, temporal } = deps;
  const kc = new KubeConfig();
  kc.loadFromFile(deps.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const kube = createKubeClients(deps.kubeconfig);
  const lost: Finding[] = [];
  const duplicated: Finding[] = [];
  const mismatched: Finding[] = [];

  const tickets = await store.testing
    .collection<Ticket>('tickets')
    .find({ _id: { $in: [...ticketIds] } })
    .sort({ createdAt: 1, _id: 1 })
    .toArray();
  const found = new Set(tickets.map((t) => t._id));
  for (const id of ticketIds) if (!found.has(id)) lost.push({ ticketId: id, type: 'vdc', what: 'ticket not stored although its submit was answered' });
  const byStatus: Partial<Record<TicketStatus, number>> = {};
  for (const t of tickets) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const notFinal = tickets.filter((t) => !FINAL_STATUSES.includes(t.status)).map((t) => t._id);
  const vdcIds = [...new Set(tickets.map((t) => t.vdc.id))];

  // Idempotency keys: one ticket each.
  const keys = tickets.map((t) => t.idempotencyKey).filter((k): k is string => !!k);
  if (keys.length > 0) {
    const perKey = await store.testing
      .collection('tickets')
      .aggregate<{ _id: string; n: number }>([
        { $match: { idempotencyKey: { $in: keys } } },
        { $group: { _id: '$idempotencyKey', n: { $sum: 1 } } },
        { $match: { n: { $gt: 1 } } },
      ])
      .toArray();
    for (const k of perKey) duplicated.push({ ticketId: k._id, type: 'vdc', what: `${k.n} tickets for one idempotency key` });
  }

  // Workflows: exactly one run per ticket, closed when the ticket is final.
  const runs = new Map<string, { count: number; open: number }>();
  for await (const wf of temporal.workflow.list()) {
    if (!found.has(wf.workflowId)) continue;
    const r = runs.get(wf.workflowId) ?? { count: 0, open: 0 };
    r.count++;
    if (wf.status.name === 'RUNNING') r.open++;
    runs.set(wf.workflowId, r);
  }

  // Ledger lines of the checked tickets, by workflow.
  const lines = (await store.ledger.list(vdcIds)).filter((l) => found.has(l.workflowId));
  const linesOf = new Map<string, LedgerLine[]>();
  for (const l of lines) linesOf.set(l.workflowId, [...(linesOf.get(l.workflowId) ?? []), l]);
  const provenance = new Set<string>();
  for (const l of lines) {
    const key = `${l.workflowId}/${l.runId}/${l.eventId}`;
    if (provenance.has(key)) duplicated.push({ ticketId: l.workflowId, type: 'ledger', what: `two ledger lines with provenance ${key}` });
    provenance.add(key);
  }

  const vdcs = new Map((await store.vdcs.list('all')).filter((v) => vdcIds.includes(v._id)).map((v) => [v._id, v]));
  const tokens = await core.listNamespacedSecret({ namespace: 'kube-system', labelSelector: NODE_JOIN_LABELS.ticket });
  const tokenOf = new Set(tokens.items.map((s) => s.metadata?.labels?.[NODE_JOIN_LABELS.ticket]));

  const nsState = async (name: string): Promise<'present' | 'terminating' | 'absent'> => {
    try {
      const ns = await core.readNamespace({ name });
      return ns.metadata?.deletionTimestamp ? 'terminating' : 'present';
    } catch {
      return 'absent';
    }
  };

  // Spaces: the last completed ticket of each space decides whether it must exist.
  const spaceTickets = new Map<string, Ticket[]>();
  for (const t of tickets) {
    if (t.type !== 'space-create' && t.type !== 'space-delete') continue;
    const key = spaceNamespace(t.vdc.id, (t.payload as { name: string }).name);
    spaceTickets.set(key, [...(spaceTickets.get(key) ?? []), t]);
  }
  for (const [namespace, ts] of spaceTickets) {
    const done = ts.filter((t) => t.status === 'completed');
    const last = done.at(-1);
    const mustExist = last?.type === 'space-create';
    const state = await nsState(namespace);
    const vdc = vdcs.get(ts[0]!.vdc.id);
    const recorded = (vdc?.spaces ?? []).filter((s) => s.namespace === namespace && s.status === 'active');
    const about = last ?? ts[0]!;
    if (mustExist && state !== 'present') lost.push({ ticketId: about._id, type: about.type, what: `namespace ${namespace} is ${state}` });
    if (!mustExist && state === 'present')
      lost.push({
        ticketId: about._id,
        type: about.type,
        what: `namespace ${namespace} exists although no completed ticket leaves it (${ts.map((t) => `${t.type}:${t.status}`).join(', ')})`,
      });
    if (mustExist && recorded.length === 0) lost.push({ ticketId: about._id, type: about.type, what: `space ${namespace} not recorded on the VDC` });
    if (recorded.length > 1) duplicated.push({ ticketId: about._id, type: about.type, what: `space ${namespace} recorded ${recorded.length} times` });
    if (!mustExist && recorded.length > 0) mismatched.push({ ticketId: about._id, type: about.type, what: `space ${namespace} still recorded active` });
  }

  for (const t of tickets) {
    const r = runs.get(t._id);
    if (!r) lost.push({ ticketId: t._id, type: t.type, what: 'no workflow run' });
    else {
      if (r.count > 1) duplicated.push({ ticketId: t._id, type: t.type, what: `${r.count} workflow runs` });
      if (FINAL_STATUSES.includes(t.status) && r.open > 0)
        mismatched.push({ ticketId: t._id, type: t.type, what: `ticket ${t.status} but its workflow still runs` });
    }
    const fact = LEDGER_FACT[t.type];
    const own = (linesOf.get(t._id) ?? []).filter((l) => !fact || l.fact === fact);
    const other = (linesOf.get(t._id) ?? []).length - own.length;
    if (other > 0) mismatched.push({ ticketId: t._id, type: t.type, what: `${other} ledger lines of an unexpected fact` });
    if (fact) {
      const expected = t.status === 'completed' ? 1 : 0;
      // A failed lease may have billed its start before the revert failed.
      const tolerated = t.status === 'failed' && t.type === 'quota-lease' ? 1 : expected;
      if (own.length < expected) lost.push({ ticketId: t._id, type: t.type, what: `no ${fact} ledger line` });
      if (own.length > tolerated) duplicated.push({ ticketId: t._id, type: t.type, what: `${own.length} ${fact} ledger lines` });
      if (t.type === 'quota-lease' && t.status === 'completed' && own.length === 1 && !own[0]!.end)
        lost.push({ ticketId: t._id, type: t.type, what: 'lease line without end (revert not recorded)' });
    }
    if (t.type === 'workload-deploy') {
      const name = (t.payload as { workload: { name: string } }).workload.name;
      const namespace = t.vdc.namespace ?? `vdc-${t.vdc.id}`;
      const deps = await apps.listNamespacedDeployment({ namespace, labelSelector: `edgeport.io/ticket=${t._id}` });
      if (t.status === 'completed') {
        if (deps.items.length === 0) lost.push({ ticketId: t._id, type: t.type, what: `Deployment ${namespace}/${name} missing` });
        const rec = await store.workloads.get(namespace, name);
        if (!rec?.revisions.some((v) => v.ticketId === t._id)) lost.push({ ticketId: t._id, type: t.type, what: `workload ${name} revision not recorded` });
        if (rec && rec.revisions.filter((v) => v.ticketId === t._id).length > 1)
          duplicated.push({ ticketId: t._id, type: t.type, what: `workload ${name} revision recorded twice` });
      } else if (deps.items.length > 0) {
        lost.push({ ticketId: t._id, type: t.type, what: `Deployment ${namespace}/${name} left behind by a ${t.status} ticket (compensation lost)` });
      }
    }
    if (t.type === 'node-join') {
      const nodeName = (t.payload as { nodeName: string }).nodeName;
      const node = await core.readNode({ name: nodeName }).catch(() => undefined);
      if (t.status === 'completed' && node?.metadata?.labels?.[NODE_JOIN_LABELS.vdc] !== t.vdc.id)
        lost.push({ ticketId: t._id, type: t.type, what: `Node ${nodeName} ${node ? 'without the VDC label' : 'missing'}` });
      if (t.status !== 'completed' && node)
        lost.push({ ticketId: t._id, type: t.type, what: `Node ${nodeName} left behind by a ${t.status} ticket (compensation lost)` });
      if (FINAL_STATUSES.includes(t.status) && tokenOf.has(t._id)) lost.push({ ticketId: t._id, type: t.type, what: 'bootstrap token Secret not revoked' });
    }
  }

  // Quota: Kubernetes enforces what MongoDB says, in every namespace of the VDC.
  for (const id of vdcIds) {
    const vdc = vdcs.get(id);
    if (!vdc) continue;
    const namespaces = [vdc.namespace ?? `vdc-${id}`, ...(vdc.spaces ?? []).filter((s) => s.status === 'active').map((s) => s.namespace)];
    for (const namespace of namespaces) {
      const kubeQuota = (await readQuota(kube, namespace)).hard;
      if (!sameQuota(kubeQuota, vdc.quota ?? {})) {
        lost.push({
          ticketId: id,
          type: 'vdc',
          what: `ResourceQuota of ${namespace} ${JSON.stringify(kubeQuota)} ≠ VDC quota in MongoDB ${JSON.stringify(vdc.quota)}`,
        });
      }
    }
  }

  // The stored ledger equals the ledger rebuilt from every workflow history.
  const verified = await verifyLedger({ temporal, storedLines: (v) => store.ledger.list(v) }, { vdcIds });
  for (const d of verified.differences) {
    const finding = { ticketId: d.id.split('/')[0] ?? d.id, type: 'ledger' as const, what: `ledger line ${d.id} ${d.kind}` };
    if (d.kind === 'missing') lost.push(finding);
    else if (d.kind === 'extra') duplicated.push(finding);
    else mismatched.push(finding);
  }

  const stuck = tickets
    .filter((t) => notFinal.includes(t._id) && (runs.get(t._id)?.open ?? 0) === 0)
    .map((t) => ({ ticketId: t._id, type: t.type, status: t.status }));
  return {
    tickets: tickets.length,
    byStatus,
    notFinal,
    stuck,
    lost,
    duplicated,
    mismatched,
    ledger: {
      workflowsScanned: verified.workflowsScanned,
      storedLines: verified.storedLines,
      rebuiltLines: verified.rebuiltLines,
      differences: verified.differences.length,
    },
  };
}

/** The report as printed by the bench. */
export function formatReport(r: InvariantReport): string {
  const rows = [
    `tickets checked            ${r.tickets}`,
    `per final state            ${Object.entries(r.byStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `not in a final state       ${r.notFinal.length}${r.notFinal.length ? ` (${r.notFinal.slice(0, 5).join(', ')}${r.notFinal.length > 5 ? ', …' : ''})` : ''}`,
    ...(r.stuck.length
      ? [
          `  of which workflow closed ${r.stuck.length}: ${r.stuck
            .slice(0, 6)
            .map((x) => `${x.ticketId} ${x.type} (${x.status})`)
            .join(', ')}${r.stuck.length > 6 ? ', …' : ''}`,
        ]
      : []),
    `lost side effects          ${r.lost.length}`,
    `duplicated side effects    ${r.duplicated.length}`,
    `mismatched projections     ${r.mismatched.length}`,
    `ledger verify              ${r.ledger.storedLines} stored / ${r.ledger.rebuiltLines} rebuilt from ${r.ledger.workflowsScanned} histories, ${r.ledger.differences} differences`,
  ];
  const details = [
    ...r.lost.map((f) => `  LOST ${f.ticketId} (${f.type}): ${f.what}`),
    ...r.duplicated.map((f) => `  DUPLICATED ${f.ticketId} (${f.type}): ${f.what}`),
    ...r.mismatched.map((f) => `  MISMATCH ${f.ticketId} (${f.type}): ${f.what}`),
  ];
  return [...rows, ...details.slice(0, 40), ...(details.length > 40 ? [`  … ${details.length - 40} more`] : [])].join('\n');
}
