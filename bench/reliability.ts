import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createKubeClients } from '../infra/kube/client.ts';
import { FAILPOINTS } from '../infra/failpoints.ts';
import type { SubmitTicket } from '../common/tickets.ts';
import { startApp, waitForWorker } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { openStore } from '../store/index.ts';
import { checkInvariants, formatReport } from './invariants.ts';
import { ApiClient } from './lib/client.ts';
import { driveToFinal, submit, type PlannedTicket } from './lib/driver.ts';
import { writeWorkflowBundle } from '../worker/bundle.ts';
import { benchStackConfig, freshStack, kubeApiserver, restartTemporal, stopStack, supervise } from './lib/stack.ts';

/**
 * `npm run bench:reliability`: N tickets of mixed types through a fresh real stack while the worker is
 * SIGKILLed, the Temporal dev server restarted and the kube-apiserver stopped; then the invariant checker
 * (`invariants.ts`) diffs MongoDB, the kube-apiserver, the histories and the ledger. Also measures how fast
 * a ticket completes after its worker is killed inside an activity. See README "Benchmarks".
 */
const HELP = `usage: npm run bench:reliability -- [--tickets N] [--worker-kills N] [--temporal-restarts N] [--apiserver-outage-s S] [--report-jobs N] [--keep-stack]
  Stack: its own ports (EDGEPORT_PORT_BASE, default 29200) and data folder (EDGEPORT_DATA_DIR, default .edgeport/bench-reliability).`;

const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '200' },
    'worker-kills': { type: 'string', default: '20' },
    'temporal-restarts': { type: 'string', default: '2' },
    'apiserver-outage-s': { type: 'string', default: '30' },
    'report-jobs': { type: 'string', default: '30' },
    'keep-stack': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const N = Number(args.tickets);
const KILLS = Number(args['worker-kills']);
const TEMPORAL_RESTARTS = Number(args['temporal-restarts']);
const OUTAGE_S = Number(args['apiserver-outage-s']);
/** BullMQ report jobs submitted (by finance, over HTTP) while the faults run; their workers live in the worker process. */
const REPORT_JOBS = Number(args['report-jobs']);
/** The heartbeat timeout of the quota apply activity (workflows/quota-change.ts). */
const APPLY_HEARTBEAT_S = 5;
const TICKET_TIMEOUT_MS = 20 * 60_000;

const t0 = Date.now();
const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s`;
const log = (msg: string): void => console.error(`[${elapsed()}] ${msg}`);
const rand = (n: number): number => Math.floor(Math.random() * n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
const short = (): string => randomBytes(3).toString('hex');

/** VDC groups: quota changes, leases and spaces/workloads/nodes never share a VDC, so their effects stay checkable. */
const VDCS = {
  quota: ['rq-1', 'rq-2', 'rq-3'],
  lease: ['rl-1', 'rl-2'],
  apps: ['rs-1', 'rs-2', 'rs-3'],
} as const;

/** The mix (fractions of N): quota change, lease, space create (half later deleted), workload deploy, node join. */
function plan(n: number): { first: PlannedTicket[]; deletesAfter: Map<number, PlannedTicket> } {
  const first: PlannedTicket[] = [];
  const deletesAfter = new Map<number, PlannedTicket>();
  const counts = { quota: Math.round(n * 0.3), lease: Math.round(n * 0.1), spaces: Math.round(n * 0.14), workloads: Math.round(n * 0.22) };
  const nodes = Math.max(0, n - counts.quota - counts.lease - counts.spaces - Math.floor(counts.spaces / 2) - counts.workloads);
  const maybeReject = (): boolean => Math.random() < 0.1;
  for (let i = 0; i < counts.quota; i++) {
    const body: SubmitTicket = {
      type: 'quota-change',
      vdcId: pick(VDCS.quota),
      quota: { pods: 21 + rand(9), ...(Math.random() < 0.5 ? { cpu: 4 + rand(2) } : {}) },
    };
    first.push({ requester: 'tenant', body, reject: maybeReject() });
  }
  for (let i = 0; i < counts.lease; i++) {
    // Each lease asks more than the last: a lease must raise the quota in force, which an active lease already raised.
    first.push({
      requester: 'tenant',
      body: { type: 'quota-lease', vdcId: pick(VDCS.lease), quota: { pods: 35 + i }, durationHours: 0.01 },
      reject: maybeReject(),
    });
  }
  for (let i = 0; i < counts.spaces; i++) {
    const vdcId = VDCS.apps[i % VDCS.apps.length]!;
    const name = `sp-${i}-${short()}`;
    const willDelete = i % 2 === 0;
    deletesAfter.set(first.length, { requester: 'tenant', body: { type: 'space-delete', vdcId, name } });
    if (!willDelete) deletesAfter.delete(first.length);
    first.push({ requester: 'tenant', body: { type: 'space-create', vdcId, name, labels: { bench: 'reliability' } }, reject: !willDelete && maybeReject() });
  }
  for (let i = 0; i < counts.workloads; i++) {
    const body: SubmitTicket = {
      type: 'workload-deploy',
      vdcId: pick(VDCS.apps),
      workload: {
        kind: 'Deployment',
        name: `wl-${i}-${short()}`,
        replicas: 1,
        containers: [{ name: 'app', image: 'registry.invalid/bench:1', requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '10m', memory: '16Mi' } }],
      },
    };
    first.push({ requester: 'tenant', body, reject: maybeReject() });
  }
  for (let i = 0; i < nodes; i++) {
    first.push({
      requester: 'vdcadmin',
      body: { type: 'node-join', vdcId: pick(VDCS.apps), pool: 'local', nodeName: `edge-rel-${i}-${short()}`, arch: 'amd64', tokenTtlMinutes: 30 },
      reject: maybeReject(),
    });
  }
  // Shuffle the first submissions, keeping each delete keyed to its create.
  const order = first.map((_, i) => i).sort(() => Math.random() - 0.5);
  return { first: order.map((i) => first[i]!), deletesAfter: new Map([...deletesAfter].map(([i, d]) => [order.indexOf(i), d])) };
}

/** A BullMQ worker process, when the repo has one (a `*main.ts` under worker/ that imports bullmq). */
function bullmqWorkerEntry(repoDir: string): string | undefined {
  const dir = join(repoDir, 'worker');
  return readdirSync(dir)
    .filter((f) => f.endsWith('main.ts') && f !== 'main.ts')
    .map((f) => join(dir, f))
    .find((f) => existsSync(f) && readFileSync(f, 'utf8').includes('bullmq'));
}

async function main(): Promise<number> {
  const cfg = benchStackConfig('reliability', 29200);
  log(`fresh stack for the reliability bench`);
  const env = await freshStack(cfg, log);
  // One webpack bundle for every worker (re)start: restarting then takes seconds, not the minutes bundling takes on a busy machine.
  const bundle = join(cfg.dataDir, 'workflow-bundle.js');
  const bundleT0 = Date.now();
  await writeWorkflowBundle(bundle);
  env.EDGEPORT_WORKFLOW_BUNDLE = bundle;
  log(`workflow bundle built once in ${((Date.now() - bundleT0) / 1000).toFixed(1)} s`);
  const store = await openStore(env.EDGEPORT_MONGO_URL as string);
  const temporal = new Client({ connection: await Connection.connect({ address: env.EDGEPORT_TEMPORAL_ADDRESS as string }) });
  const admin = createKubeClients(env.EDGEPORT_KUBE_ADMIN_KUBECONFIG as string);
  const workerT0 = Date.now();
  const worker = await supervise(cfg, 'worker', env, log);
  const workerStartMs = Date.now() - workerT0;
  log(`worker ready in ${(workerStartMs / 1000).toFixed(1)} s`);
  const api = await supervise(cfg, 'api', { ...env, EDGEPORT_RECONCILE_SECONDS: '2' }, log);
  try {
    for (const id of [...VDCS.quota, ...VDCS.lease, 'rh-1'])
      await seedVdc(store, admin, { id, name: id, domainId: 'bench-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
    for (const id of VDCS.apps) await seedVdc(store, admin, { id, name: id, domainId: 'bench-domain', quota: { cpu: 50, memoryGi: 100, pods: 200 } });
    const allVdcs = [...VDCS.quota, ...VDCS.lease, ...VDCS.apps, 'rh-1'];
    for (const [username, role] of [
      ['tenant', 'vdc-user'],
      ['vdcadmin', 'vdc-admin'],
    ] as const) {
      await grant(
        store,
        demoUserByUsername(username)!,
        allVdcs.map((vdcId) => ({ role, scope: { type: 'vdc' as const, vdcId } })),
      );
    }
    const client = new ApiClient(env.EDGEPORT_PUBLIC_URL as string);
    await client.login('tenant', 'vdcadmin', 'opsadmin', 'finance');

    const bullmq = bullmqWorkerEntry(cfg.repoDir);
    // BullMQ: report jobs (queue `reports`, processed by the BullMQ worker inside the worker process, so every
    // worker SIGKILL also kills a BullMQ worker) submitted while the faults run; each must end `done` with its file.
    const reportJobIds: string[] = [];
    const reportRefused: string[] = [];
    const reportSubmitter = (async () => {
      for (let i = 0; i < REPORT_JOBS; i++) {
        const r = await client.retrying<{ id?: string }>('finance', 'POST', '/api/reports/jobs', {
          scope: 'platform',
          from: '2026-01-01',
          to: '2027-01-01',
          kind: i % 2 ? 'showback' : 'chargeback',
          format: i % 3 === 0 ? 'pdf' : 'csv',
        });
        if (r.status === 202 && r.body?.id) reportJobIds.push(r.body.id);
        else reportRefused.push(`${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
        await sleep(3000 + rand(4000));
      }
    })();
    /** The workflow's status when it has closed (a ticket whose workflow closed without making it final is stuck). */
    const workflowClosed = async (id: string): Promise<string | undefined> => {
      try {
        const d = await temporal.workflow.getHandle(id).describe();
        return d.status.name === 'RUNNING' ? undefined : d.status.name;
      } catch {
        return undefined;
      }
    };
    const { first, deletesAfter } = plan(N);
    const ids: string[] = [];
    const refused: string[] = [];
    const skippedDeletes: string[] = [];
    const run = async (t: PlannedTicket): Promise<string | undefined> => {
      const r = await submit(client, t, `rel-${short()}-${short()}`);
      if (!r.id) {
        refused.push(`${t.body.type} ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
        return undefined;
      }
      ids.push(r.id);
      const final = await driveToFinal(client, r.id, t, { admin: admin.core, timeoutMs: TICKET_TIMEOUT_MS, pollMs: 1500, workflowClosed });
      return final?.status;
    };

    // Faults, one after another at random gaps, while the tickets flow.
    const events: ('worker' | 'temporal' | 'apiserver')[] = [
      ...Array<'worker'>(KILLS).fill('worker'),
      ...Array<'temporal'>(TEMPORAL_RESTARTS).fill('temporal'),
      ...(OUTAGE_S > 0 ? (['apiserver'] as const) : []),
    ].sort(() => Math.random() - 0.5);
    const faults = { workerKills: 0, temporalRestarts: 0, apiserverOutages: 0 };
    const faultErrors: string[] = [];
    const chaos = (async () => {
      await sleep(5000);
      for (const e of events) {
        await sleep(2000 + rand(6000));
        if (e === 'worker') {
          await worker.kill();
          faults.workerKills++;
          log(`worker SIGKILLed (${faults.workerKills}/${KILLS}); restarting`);
          await worker.restart();
        } else if (e === 'temporal') {
          log('restarting the Temporal dev server');
          await restartTemporal(cfg);
          faults.temporalRestarts++;
          log(`Temporal dev server back (${faults.temporalRestarts}/${TEMPORAL_RESTARTS})`);
        } else {
          log(`stopping the kube-apiserver for ${OUTAGE_S} s`);
          const apiserver = kubeApiserver(cfg);
          await apiserver.stop();
          await sleep(OUTAGE_S * 1000);
          await apiserver.start();
          faults.apiserverOutages++;
          log('kube-apiserver back');
        }
      }
    })().catch((err: unknown) => {
      faultErrors.push(String(err).slice(0, 300));
      log(`fault injection stopped: ${String(err).slice(0, 300)}`);
    });

    // Submissions spread over the expected fault window (a worker restart takes about as long as its first start), at most 60 in flight.
    const faultWindowMs = KILLS * (5000 + workerStartMs) + TEMPORAL_RESTARTS * 20_000 + (OUTAGE_S > 0 ? OUTAGE_S * 1000 + 25_000 : 0);
    const spacing = Math.max(200, Math.min(5000, Math.round(faultWindowMs / Math.max(1, first.length))));
    log(`submitting ${first.length} tickets (plus follow-up space deletes) every ${(spacing / 1000).toFixed(1)} s; ${events.length} faults`);
    const inFlight = new Set<Promise<unknown>>();
    let done = 0;
    for (const [i, t] of first.entries()) {
      while (inFlight.size >= 60) await Promise.race(inFlight);
      const p = (async () => {
        const status = await run(t);
        const del = deletesAfter.get(i);
        if (del) {
          if (status === 'completed') await run(del);
          else skippedDeletes.push(`${del.body.type} ${(del.body as { name: string }).name} (create ${status})`);
        }
        done++;
        if (done % 20 === 0) log(`${done}/${first.length} ticket chains final`);
      })();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      await sleep(spacing);
    }
    await Promise.all(inFlight);
    await chaos;
    await reportSubmitter;
    const mainWall = (Date.now() - t0) / 1000;

    // Every report job finishes (done or failed for good) within 5 min of the faults ending; a done one downloads.
    const reportStates = new Map<string, string>();
    const reportDeadline = Date.now() + 300_000;
    for (const id of reportJobIds) {
      for (;;) {
        const v = await client.retrying<{ state?: string; error?: string }>('finance', 'GET', `/api/reports/jobs/${id}`);
        const state = v.body?.state ?? `http ${v.status}`;
        if (state === 'done' || state === 'failed' || v.status === 404 || Date.now() > reportDeadline) {
          reportStates.set(id, state === 'failed' ? `failed: ${v.body?.error ?? ''}` : state);
          break;
        }
        await sleep(1000);
      }
      if (reportStates.get(id) === 'done') {
        const d = await client.retrying<string>('finance', 'GET', `/api/reports/jobs/${id}/download`);
        if (d.status !== 200 || !d.body) reportStates.set(id, `done, download ${d.status}`);
      }
    }
    const reportTally = [...reportStates.values()].reduce<Record<string, number>>((m, st) => ({ ...m, [st]: (m[st] ?? 0) + 1 }), {});
    const reportsOk = reportJobIds.length === REPORT_JOBS && reportTally.done === REPORT_JOBS;
    log('all tickets final; measuring a worker killed inside an activity');

    // A worker killed inside the apply activity (failpoint): how long until the ticket completes.
    await worker.kill();
    const fp = startApp(cfg.repoDir, 'worker', { ...env, EDGEPORT_FAILPOINTS: FAILPOINTS.workerAfterApply });
    await waitForWorker(fp, 900_000);
    const hb: PlannedTicket = { requester: 'tenant', body: { type: 'quota-change', vdcId: 'rh-1', quota: { pods: 25 } } };
    const sub = await submit(client, hb, `rel-hb-${short()}`);
    if (!sub.id) throw new Error(`heartbeat ticket refused: ${JSON.stringify(sub.body)}`);
    ids.push(sub.id);
    const killed = new Promise<number>((resolve) => fp.child.once('exit', () => resolve(Date.now())));
    const hbFinal = driveToFinal(client, sub.id, hb, { admin: admin.core, timeoutMs: 300_000, pollMs: 200 });
    const killedAt = await killed;
    await worker.restart();
    const workerBackAt = Date.now();
    const hbTicket = await hbFinal;
    const hbCompletedAt = Date.now();
    const hbSeconds = (hbCompletedAt - killedAt) / 1000;

    log('running the invariant checker');
    const report = await checkInvariants({ store, temporal, kubeconfig: env.EDGEPORT_KUBE_ADMIN_KUBECONFIG as string }, ids);
    const wall = (Date.now() - t0) / 1000;
    console.log(`
Reliability bench (${new Date().toISOString()})
  tickets submitted          ${ids.length} (planned ${N}; refused at submit ${refused.length}; deletes not submitted because the create did not complete ${skippedDeletes.length})
  faults injected            worker SIGKILL ${faults.workerKills}, Temporal dev server restarts ${faults.temporalRestarts}, kube-apiserver stopped ${faults.apiserverOutages} × ${OUTAGE_S} s
  BullMQ workers             in the worker process (report, image, ledger-verify queues): killed with it ${faults.workerKills} times${bullmq ? `; separate entry ${bullmq} not killed` : ''}
  BullMQ report jobs         ${reportJobIds.length} submitted (refused ${reportRefused.length}${reportRefused.length ? `: ${reportRefused.slice(0, 3).join('; ')}` : ''}); ${JSON.stringify(reportTally)} → ${reportsOk ? 'all done and downloadable' : 'NOT all done'}
  fault injection errors     ${faultErrors.length ? faultErrors.join('; ') : 'none'}
  unplanned exits            worker ${worker.unplannedExits().count}, api ${api.unplannedExits().count}
${formatReport(report)
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
  worker killed in activity  ticket ${hbTicket?.status ?? 'not final'} ${hbSeconds.toFixed(1)} s after the kill (worker back after ${((workerBackAt - killedAt) / 1000).toFixed(1)} s); target ≤ heartbeat ${APPLY_HEARTBEAT_S} s + 15 s = ${APPLY_HEARTBEAT_S + 15} s → ${hbSeconds <= APPLY_HEARTBEAT_S + 15 ? 'met' : 'MISSED'}
  wall time                  ${wall.toFixed(0)} s (tickets and faults ${mainWall.toFixed(0)} s)`);
    if (refused.length)
      console.log(
        `  refused at submit:\n${refused
          .slice(0, 10)
          .map((r) => `    ${r}`)
          .join('\n')}`,
      );
    const ok = report.lost.length === 0 && report.duplicated.length === 0 && report.notFinal.length === 0 && hbTicket?.status === 'completed' && reportsOk;
    return ok ? 0 : 1;
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
