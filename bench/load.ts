import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { newTicketId } from '../api/services/tickets.ts';
import { workflowStartOf } from '../api/services/ticket-types/index.ts';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';
import { decideQuotaChange } from '../policies/quota-change.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { openStore, type Store } from '../store/index.ts';
import type { Ticket } from '../common/tickets.ts';
import { ApiClient } from './lib/client.ts';
import { openLoop, quantile, summarize, type Summary } from './lib/open-loop.ts';
import { benchStackConfig, freshStack, stopStack, supervise } from './lib/stack.ts';

/**
 * `npm run bench:load`: on a fresh stack of its own, an open-loop (constant arrival rate) run of ticket
 * submissions over HTTP beside a bare baseline (the same Mongo insert + StartWorkflow from this process's
 * clients), reads over 10k seeded tickets, and approval → applied latency on the kube-apiserver. Prints a
 * table with the targets of issue 8 and the ratios. See README "Benchmarks".
 */
const HELP = `usage: npm run bench:load -- [--duration S] [--rate R] [--baseline S] [--reads S] [--read-rate R] [--seed N] [--approvals N] [--keep-stack]
  --duration   seconds of API submissions at --rate per second (default 300 at 20/s)
  --baseline   seconds of the bare baseline at the same rate (default duration / 3, at least 20)
  --reads      seconds of each read phase at --read-rate per second (default 60 at 20/s)
  --seed       tickets seeded for the reads (default 10000); --approvals approval → applied samples (default 30)
  Stack: its own ports (EDGEPORT_PORT_BASE, default 29300) and data folder (EDGEPORT_DATA_DIR, default .edgeport/bench-load).`;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    baseline: { type: 'string' },
    reads: { type: 'string', default: '60' },
    'read-rate': { type: 'string', default: '20' },
    seed: { type: 'string', default: '10000' },
    approvals: { type: 'string', default: '30' },
    'keep-stack': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const DURATION_S = Number(args.duration);
const RATE = Number(args.rate);
const BASELINE_S = Number(args.baseline ?? Math.max(20, Math.round(DURATION_S / 3)));
const READS_S = Number(args.reads);
const READ_RATE = Number(args['read-rate']);
const SEED = Number(args.seed);
const APPROVALS = Number(args.approvals);

const t0 = Date.now();
const log = (msg: string): void => console.error(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const short = (): string => randomBytes(4).toString('hex');

const SUBMIT_VDC = 'ld-1';
const READ_VDC = 'lr-1';
const APPROVE_VDCS = ['la-1', 'la-2', 'la-3', 'la-4', 'la-5'];
const QUOTA = { cpu: 4, memoryGi: 8, pods: 20 };
const requester = demoUserByUsername('tenant')!;

/** The bare path the API wraps: store the ticket and start its workflow, from this process's own clients. */
async function bareSubmit(store: Store, temporal: Client, taskQueue: string, vdc: Ticket['vdc'], pods: number): Promise<void> {
  const payload = { type: 'quota-change' as const, vdcId: vdc.id, quota: { pods } };
  const decision = decideQuotaChange({ current: QUOTA, requested: payload.quota });
  if (decision.outcome === 'deny') throw new Error(decision.reason);
  const { ticket } = await store.tickets.insertOrGet({
    _id: newTicketId(),
    type: 'quota-change',
    status: 'submitted',
    requester: { sub: requester.sub, name: requester.name },
    vdc,
    payload,
    policy: decision,
    approvals: decision.chain.map((s) => ({ step: s.step, role: s.role })),
    currentStep: null,
    approvalTimeoutMs: 72 * 3_600_000,
    idempotencyKey: `base-${short()}`,
  });
  const { workflowType, input } = workflowStartOf(ticket);
  try {
    await temporal.workflow.start(workflowType, {
      taskQueue,
      workflowId: ticket._id,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  await store.tickets.markWorkflowStarted(ticket._id);
}

/** Copies of one real ticket document (completed), so the list and by-id reads run over `n` stored tickets. */
async function seedTickets(store: Store, template: Ticket, n: number): Promise<string[]> {
  const ids: string[] = [];
  const base = Date.now() - n * 1000;
  for (let off = 0; off < n; off += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - off) }, (_, j) => {
      const at = new Date(base + (off + j) * 1000);
      // The API's ticket id syntax (6 hex chars, see newTicketId): any other shape is a 404 by design.
      const id = `tkt-${at.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
      ids.push(id);
      const { idempotencyKey: _k, ...rest } = template;
      return { ...rest, _id: id, status: 'completed', workflowStarted: true, createdAt: at, updatedAt: at };
    });
    await store.testing.collection('tickets').insertMany(batch as never[]);
  }
  return ids;
}

const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '-');

async function main(): Promise<number> {
  const cfg = benchStackConfig('load', 29300);
  log('fresh stack for the load bench');
  const env = await freshStack(cfg, log);
  const store = await openStore(env.EDGEPORT_MONGO_URL as string);
  const temporal = new Client({ connection: await Connection.connect({ address: env.EDGEPORT_TEMPORAL_ADDRESS as string }) });
  const admin = createKubeClients(env.EDGEPORT_KUBE_ADMIN_KUBECONFIG as string);
  const worker = await supervise(cfg, 'worker', env, log);
  const api = await supervise(cfg, 'api', env, log);
  try {
    for (const id of [SUBMIT_VDC, READ_VDC, ...APPROVE_VDCS]) await seedVdc(store, admin, { id, name: id, domainId: 'load-domain', quota: QUOTA });
    await grant(
      store,
      requester,
      [SUBMIT_VDC, READ_VDC, ...APPROVE_VDCS].map((vdcId) => ({ role: 'vdc-user' as const, scope: { type: 'vdc' as const, vdcId } })),
    );
    await grant(
      store,
      demoUserByUsername('vdcadmin')!,
      APPROVE_VDCS.map((vdcId) => ({ role: 'vdc-admin' as const, scope: { type: 'vdc' as const, vdcId } })),
    );
    await grant(store, demoUserByUsername('other')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId: READ_VDC } }]);
    const client = new ApiClient(env.EDGEPORT_PUBLIC_URL as string);
    await client.login('tenant', 'vdcadmin', 'other');
    const vdcRef = (id: string): Ticket['vdc'] => ({ id, name: id, domainId: 'load-domain', namespace: namespaceOf(id), pool: 'local' });
    const taskQueue = env.EDGEPORT_TASK_QUEUE ?? TICKETS_TASK_QUEUE;

    // Warm-up (JIT, connection pools, sessions), not measured.
    for (let i = 0; i < 10; i++) {
      await bareSubmit(store, temporal, taskQueue, vdcRef(SUBMIT_VDC), 21);
      await client.call('tenant', 'POST', '/api/tickets', { type: 'quota-change', vdcId: SUBMIT_VDC, quota: { pods: 21 } });
    }

    log(`baseline: bare Mongo insert + StartWorkflow at ${RATE}/s for ${BASELINE_S} s`);
    const baseline = summarize(
      await openLoop(RATE, BASELINE_S * 1000, async (i) => (await bareSubmit(store, temporal, taskQueue, vdcRef(SUBMIT_VDC), 21 + (i % 9)), { ok: true })),
    );
    log(`baseline: ${JSON.stringify(baseline)}`);
    await sleep(5000);
    log(`API submissions at ${RATE}/s for ${DURATION_S} s`);
    const submits = summarize(
      await openLoop(RATE, DURATION_S * 1000, async (i) => {
        const r = await client.call(
          'tenant',
          'POST',
          '/api/tickets',
          { type: 'quota-change', vdcId: SUBMIT_VDC, quota: { pods: 21 + (i % 9) } },
          { 'idempotency-key': `load-${short()}` },
        );
        return { ok: r.status === 201, status: r.status };
      }),
    );

    log(`API submissions: ${JSON.stringify(submits)}`);
    log(`seeding ${SEED} tickets for the reads`);
    const tpl = await client.retrying<{ id: string }>(
      'tenant',
      'POST',
      '/api/tickets',
      { type: 'quota-change', vdcId: READ_VDC, quota: { pods: 21 } },
      { 'idempotency-key': `tpl-${short()}` },
    );
    if (tpl.status !== 201 && tpl.status !== 200) throw new Error(`template ticket refused: ${tpl.status} ${JSON.stringify(tpl.body)}`);
    const template = await store.tickets.get(tpl.body.id);
    if (!template) throw new Error('template ticket not stored');
    const seeded = await seedTickets(store, template, SEED);
    const readById = summarize(
      await openLoop(READ_RATE, READS_S * 1000, async (i) => {
        const r = await client.call('other', 'GET', `/api/tickets/${seeded[(i * 7919) % seeded.length]}`);
        return { ok: r.status === 200, status: r.status };
      }),
    );
    let pageSize = 0;
    const list = summarize(
      await openLoop(READ_RATE, READS_S * 1000, async () => {
        const r = await client.call<{ items: unknown[] }>('other', 'GET', '/api/tickets?scope=all');
        if (r.status === 200) pageSize = r.body.items.length;
        return { ok: r.status === 200, status: r.status };
      }),
    );

    log(`reads by id: ${JSON.stringify(readById)}; list page (${pageSize} items): ${JSON.stringify(list)}`);
    // The submit phases leave thousands of workflows still running their preflight; approvals measured
    // while that backlog drains measure the backlog (every approval ticket waited > 60 s for its preview).
    const drainStart = performance.now();
    let backlog = Number.NaN;
    for (;;) {
      backlog = await store.testing.collection('tickets').countDocuments({ status: 'submitted' });
      if (backlog === 0 || performance.now() - drainStart > 15 * 60_000) break;
      await sleep(2000);
    }
    const drainS = (performance.now() - drainStart) / 1000;
    log(`submit backlog drained in ${drainS.toFixed(0)} s (${backlog} still submitted)`);
    log(`approval → applied: ${APPROVALS} approvals over ${APPROVE_VDCS.length} VDCs`);
    const applied: number[] = [];
    let approvalFailures = 0;
    await Promise.all(
      APPROVE_VDCS.map(async (vdcId, v) => {
        for (let k = 0; k < Math.ceil(APPROVALS / APPROVE_VDCS.length) && v + k * APPROVE_VDCS.length < APPROVALS; k++) {
          const pods = QUOTA.pods + 1 + k;
          const sub = await client.retrying<{ id: string }>(
            'tenant',
            'POST',
            '/api/tickets',
            { type: 'quota-change', vdcId, quota: { pods } },
            { 'idempotency-key': `appr-${short()}` },
          );
          if (sub.status !== 201 && sub.status !== 200) {
            approvalFailures++;
            continue;
          }
          let hash: string | undefined;
          let skipped = false;
          for (let tries = 0; tries < 600 && !hash && !skipped; tries++) {
            const t = await client.ticket('vdcadmin', sub.body.id);
            if (t.body.status === 'pending_approval' && t.body.canDecide) hash = t.body.preview?.hash;
            else if (t.body.status !== 'submitted' && t.body.status !== 'pending_approval') skipped = true;
            else await sleep(100);
          }
          if (!hash) {
            approvalFailures++;
            continue;
          }
          const at = performance.now();
          const dec = await client.call('vdcadmin', 'POST', `/api/tickets/${sub.body.id}/decisions`, { decision: 'approve', previewHash: hash });
          if (dec.status !== 200) {
            approvalFailures++;
            continue;
          }
          for (;;) {
            if ((await readQuota(admin, namespaceOf(vdcId))).hard.pods === pods) break;
            if (performance.now() - at > 60_000) {
              approvalFailures++;
              break;
            }
            await sleep(25);
          }
          applied.push(performance.now() - at);
          // Let the ticket finish (ledger, projection) before the next change of this VDC.
          for (let tries = 0; tries < 300; tries++) {
            if ((await client.ticket('tenant', sub.body.id)).body.status === 'completed') break;
            await sleep(100);
          }
        }
      }),
    );

    const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
    const ratio = submits.p99 / baseline.p99;
    const row = (name: string, value: string, target: string, result: string): string =>
      `${name.padEnd(34)} ${value.padEnd(26)} ${target.padEnd(26)} ${result}`;
    const errs = (s: Summary): string =>
      s.count === s.ok
        ? ''
        : `, ${s.count - s.ok} errors (${Object.entries(s.failures)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ')})`;
    const appliedMedian = quantile(applied, 0.5);
    const appliedP99 = quantile(applied, 0.99);
    console.log(`
Load bench (${new Date().toISOString()}; offered ${RATE}/s; API ${DURATION_S} s, baseline ${BASELINE_S} s, reads ${READS_S} s each at ${READ_RATE}/s; open loop, latency from the intended start)
${row('metric', 'measured', 'target', 'verdict / ratio')}
${row('submits/s (API)', `${submits.throughput.toFixed(1)}/s (${submits.ok}/${submits.count}${errs(submits)})`, '≥ 20/s', verdict(submits.throughput >= 20))}
${row('submit p50 / p99 (API)', `${ms(submits.p50)} / ${ms(submits.p99)}`, 'p99 < 300 ms', verdict(submits.p99 < 300))}
${row('submit p50 / p99 (bare baseline)', `${ms(baseline.p50)} / ${ms(baseline.p99)} (${baseline.throughput.toFixed(1)}/s${errs(baseline)})`, '-', '-')}
${row('API p99 / baseline p99', `${ratio.toFixed(2)}×`, '≤ 2×', verdict(ratio <= 2))}
${row('read ticket by id p50 / p99', `${ms(readById.p50)} / ${ms(readById.p99)}${errs(readById)}`, 'p99 < 50 ms', verdict(readById.p99 < 50))}
${row(`list page (${pageSize} of ${SEED}+) p50 / p99`, `${ms(list.p50)} / ${ms(list.p99)}${errs(list)}`, 'p99 < 150 ms', verdict(list.p99 < 150))}
${row('approval → applied median / p99', `${ms(appliedMedian)} / ${ms(appliedP99)} (n=${applied.length}${approvalFailures ? `, ${approvalFailures} failed` : ''})`, 'median < 2 s, p99 < 5 s', verdict(appliedMedian < 2000 && appliedP99 < 5000))}
backlog of preflights after the submit phases drained in ${drainS.toFixed(0)} s; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s; max latencies: API submit ${ms(submits.max)}, baseline ${ms(baseline.max)}, by id ${ms(readById.max)}, list ${ms(list.max)}`);
    return 0;
  } finally {
    await Promise.all([api.close(), worker.close()]).catch(() => undefined);
    await temporal.connection.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    if (!args['keep-stack']) await stopStack(cfg);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
