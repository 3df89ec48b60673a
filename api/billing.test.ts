import { redisConnection } from '../infra/redis.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { FIRST_EFFECTIVE_MONTH } from '../store/pricebook.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';
import type { LedgerVerifyResult } from '../services/ledger-verify.ts';
import { LEDGER_VERIFY_QUEUE, LEDGER_VERIFY_SCHEDULER } from '../services/ledger-verify-jobs.ts';
import { Queue } from 'bullmq';

/**
 * Ledger verify, reports and the price book over HTTP, with real api and worker processes: quota tickets
 * go through the real workflows, verify rebuilds their ledger lines from the Temporal histories.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const domainId = uniqueName('billd');
const vdcId = uniqueName('bill');
const otherVdc = uniqueName('billx');

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const cookies: Record<string, string> = {};
const ticketIds: string[] = [];

async function call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string; type: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie: cookies[user] ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, text, type, body: type.includes('json') && text ? JSON.parse(text) : undefined };
}

async function until<T>(fn: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!pred(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    last = await fn();
  }
  return last;
}

async function quotaTicket(quota: Record<string, number>): Promise<string> {
  const sub = await call('tenant', 'POST', '/api/tickets', { type: 'quota-change', vdcId, quota });
  expect(sub.status).toBe(201);
  const id = sub.body.id as string;
  const pending = await until(
    () => call('vdcadmin', 'GET', `/api/tickets/${id}`),
    (r) => r.body?.status === 'pending_approval' || r.body?.status === 'completed',
  );
  if (pending.body.status === 'pending_approval') {
    const dec = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.body.preview?.hash });
    expect(dec.status).toBe(200);
  }
  const done = await until(
    () => call('tenant', 'GET', `/api/tickets/${id}`),
    (r) => r.body?.status === 'completed',
  );
  expect(done.body.status).toBe('completed');
  return id;
}

const verify = (vdcIds = [vdcId]) => call('finance', 'POST', '/api/ledger/verify', { vdcIds });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await store.domains.create({ _id: domainId, name: domainId });
  await seedVdc(store, kube, { id: vdcId, name: 'Billing VDC', domainId, quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await seedVdc(store, kube, { id: otherVdc, name: 'Other billing VDC', domainId, quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  worker = startApp(repoDir, 'worker', env);
  api = startApp(repoDir, 'api', env);
  await Promise.all([waitForWorker(worker), waitForApi(api, base)]);
  for (const u of ['tenant', 'vdcadmin', 'opsadmin', 'finance']) cookies[u] = await loginAs(base, u, demoUserByUsername(u)!.password);
  ticketIds.push(await quotaTicket({ cpu: 5, memoryGi: 10 }), await quotaTicket({ cpu: 6 }));
}, 240_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('ledger verify over real ticket workflows', () => {
  it('rebuilds exactly the stored lines: zero difference (API and CLI)', async () => {
    const r = await until(verify, (v) => v.body?.ok === true && v.body.rebuiltLines === 2);
    expect(r.status).toBe(200);
    const result = r.body as LedgerVerifyResult;
    expect(result).toMatchObject({ ok: true, rebuiltLines: 2, storedLines: 2, differences: [] });
    expect(result.workflowsScanned).toBeGreaterThanOrEqual(2);

    const cli = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'api/cli.ts', 'ledger', 'verify', '--vdc', vdcId], {
      cwd: repoDir,
      env: process.env,
    });
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, rebuiltLines: 2, storedLines: 2, differences: [] });
  });

  it('reports exactly the edited and the deleted line after tampering, then zero again once restored', async () => {
    const [first, second] = await Promise.all(ticketIds.map((id) => store.ledger.byWorkflow(id)));
    const edited = first![0]!;
    const deleted = second![0]!;
    const lines = store.testing.collection('ledgerlines');
    await lines.updateOne({ _id: edited._id as never }, { $set: { 'quantities.cpu': 99 } });
    await lines.deleteOne({ _id: deleted._id as never });
    try {
      const r = (await verify()).body as LedgerVerifyResult;
      expect(r.ok).toBe(false);
      expect(r.differences.map((d) => [d.kind, d.id, d.kind === 'changed' ? d.fields : []]).sort()).toEqual(
        [
          ['changed', edited._id, ['quantities']],
          ['missing', deleted._id, []],
        ].sort(),
      );
      expect(r.storedLines).toBe(1);
    } finally {
      await lines.updateOne({ _id: edited._id as never }, { $set: { quantities: edited.quantities } });
      await lines.insertOne(deleted as never);
    }
    expect((await verify()).body).toMatchObject({ ok: true, differences: [] });
  });

  it('a line with no history behind it is reported as extra', async () => {
    const fake = { ...(await store.ledger.byWorkflow(ticketIds[0]!))[0]!, _id: `${ticketIds[0]}/forged/999`, runId: 'forged', eventId: 999 };
    const lines = store.testing.collection('ledgerlines');
    await lines.insertOne(fake as never);
    try {
      const r = (await verify()).body as LedgerVerifyResult;
      expect(r.differences.map((d) => [d.kind, d.id])).toEqual([['extra', fake._id]]);
    } finally {
      await lines.deleteOne({ _id: fake._id as never });
    }
  });

  it('runs on a schedule in the worker (BullMQ job scheduler) and stores each run with its differences', async () => {
    const queue = new Queue(LEDGER_VERIFY_QUEUE, { connection: redisConnection(stackEnv('EDGEPORT_REDIS_URL')) });
    const fake = {
      ...(await store.ledger.byWorkflow(ticketIds[0]!))[0]!,
      _id: `${ticketIds[0]}/scheduled-forged/998`,
      runId: 'scheduled-forged',
      eventId: 998,
    };
    const lines = store.testing.collection('ledgerlines');
    try {
      // The worker registered the scheduler with its interval (default: daily).
      expect((await queue.getJobScheduler(LEDGER_VERIFY_SCHEDULER))?.every).toBe(86_400_000);
      await lines.insertOne(fake as never);
      // One run now, as the scheduler would start it.
      const jobId = uniqueName('lv');
      await queue.add('verify', {}, { jobId });
      const runs = await until(
        () => call('finance', 'GET', '/api/ledger/verifications?limit=50'),
        (r) => r.body?.items?.some((i: { id: string }) => i.id === jobId),
        180_000,
      );
      const run = runs.body.items.find((i: { id: string }) => i.id === jobId);
      expect(run).toMatchObject({ ok: false });
      expect(run.workflowsScanned).toBeGreaterThanOrEqual(ticketIds.length);
      expect(run.differences).toContainEqual(expect.objectContaining({ kind: 'extra', id: fake._id }));
      expect(run.differenceCount).toBeGreaterThanOrEqual(1);
      expect((await call('vdcadmin', 'GET', '/api/ledger/verifications')).status).toBe(403);
      expect((await call('finance', 'GET', '/api/ledger/verifications?limit=0')).status).toBe(400);
    } finally {
      await lines.deleteOne({ _id: fake._id as never });
      await queue.close();
    }
  }, 240_000);

  it('refuses a malformed body naming the field', async () => {
    const r = await call('finance', 'POST', '/api/ledger/verify', { vdcIds: ['Not A Label'] });
    expect(r.status).toBe(400);
    expect(r.text).toContain('vdcIds[0]');
  });
});

describe('price book and reports over HTTP', () => {
  it('only operations admins publish; a version takes effect next month (the first of an install from the beginning) and is audited', async () => {
    const body = { currency: 'CNY', prices: [{ resource: 'cpu', unitPrice: '0.05' }] };
    const firstOfInstall = (await call('vdcadmin', 'GET', '/api/pricebook')).body.items.length === 0;
    expect((await call('vdcadmin', 'POST', '/api/pricebook', body)).status).toBe(403);
    expect((await call('finance', 'POST', '/api/pricebook', body)).status).toBe(403);
    const bad = await call('opsadmin', 'POST', '/api/pricebook', { prices: [{ resource: 'cpu', unitPrice: 0.05 }] });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('prices[0].unitPrice');
    const now = new Date();
    if (firstOfInstall) {
      const first = await call('opsadmin', 'POST', '/api/pricebook', body);
      expect(first.status).toBe(201);
      expect(first.body.effectiveFrom).toBe(FIRST_EFFECTIVE_MONTH);
    }
    const ok = await call('opsadmin', 'POST', '/api/pricebook', body);
    expect(ok.status).toBe(201);
    expect(ok.body.effectiveFrom).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7));
    const listed = await call('vdcadmin', 'GET', '/api/pricebook');
    expect(listed.body.items.map((v: { version: number }) => v.version)).toContain(ok.body.version);
    const audit = await call('opsadmin', 'GET', '/api/audit?action=pricebook.publish&limit=1000');
    expect(audit.body.items.some((e: { target: string }) => e.target === `pricebook:v${ok.body.version}`)).toBe(true);
  });

  it('tenants see only their VDC; lines link to the ticket workflows; CSV rebuilt twice is identical', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const asOf = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();
    const own = await call('vdcadmin', 'GET', `/api/reports/vdcs/${vdcId}?month=${month}&asOf=${encodeURIComponent(asOf)}`);
    expect(own.status).toBe(200);
    const workflows = new Set(
      own.body.invoices.flatMap((i: { lines: { provenance: { workflowId: string } }[] }) => i.lines.map((l) => l.provenance.workflowId)),
    );
    expect([...workflows].sort()).toEqual([...ticketIds].sort());
    expect((await call('vdcadmin', 'GET', `/api/reports/vdcs/${otherVdc}?month=${month}`)).status).toBe(404);
    expect((await call('vdcadmin', 'GET', `/api/reports/domains/${domainId}?month=${month}`)).status).toBe(404);
    expect((await call('tenant', 'GET', `/api/reports/vdcs/${vdcId}?month=${month}`)).status).toBe(403);
    expect((await call('vdcadmin', 'GET', `/api/reports/vdcs/${vdcId}?month=2026-13`)).status).toBe(400);

    const csvPath = `/api/reports/domains/${domainId}?month=${month}&format=csv&kind=showback&asOf=${encodeURIComponent(asOf)}`;
    const [a, b] = [await call('finance', 'GET', csvPath), await call('finance', 'GET', csvPath)];
    expect(a.status).toBe(200);
    expect(a.type).toContain('text/csv');
    expect(a.text).toBe(b.text);
    expect(a.text.split('\r\n')[0]).toBe('row,vdc_id,domain_id,pool,resource,unit,usage,currency,amount,ledger_lines');
    expect(a.text).toContain(`usage,${vdcId},${domainId},local,cpu,core-hour,`);
  });
});

describe('billing labels and label reports over HTTP', () => {
  it('domain and ops admins label VDCs (audited, bad labels name the field); finance reports over the labelled VDCs, synchronously and as a job', async () => {
    const costCenter = uniqueName('cc');
    const month = new Date().toISOString().slice(0, 7);
    const asOf = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();
    const labels = { 'cost-center': costCenter, 'example.com/team': 'edge' };

    expect((await call('vdcadmin', 'PUT', `/api/vdcs/${vdcId}/labels`, { labels })).status).toBe(403);
    const bad = await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/labels`, { labels: { 'cost center': 'x' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('labels');
    const badValue = await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/labels`, { labels: { team: 'a b' } });
    expect(badValue.status).toBe(400);
    expect(JSON.stringify(badValue.body.errors)).toContain('labels.team');
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body.labels).toEqual({});

    const put = await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/labels`, { labels });
    expect(put.status).toBe(200);
    expect(put.body.labels).toEqual(labels);
    expect((await call('vdcadmin', 'GET', `/api/vdcs/${vdcId}`)).body.labels).toEqual(labels);
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${otherVdc}/labels`, { labels: { 'cost-center': costCenter } })).status).toBe(200);
    const audit = await call('opsadmin', 'GET', `/api/audit?action=vdc.labels&limit=1000`);
    expect(
      audit.body.items.some(
        (e: { target: string; details?: { to?: unknown } }) => e.target === `vdc:${vdcId}` && JSON.stringify(e.details?.to) === JSON.stringify(labels),
      ),
    ).toBe(true);

    const path = `/api/reports/labels?label=cost-center=${costCenter}&month=${month}&asOf=${encodeURIComponent(asOf)}`;
    const r = await call('finance', 'GET', path);
    expect(r.status).toBe(200);
    expect(r.body.scope).toEqual({ kind: 'label', key: 'cost-center', value: costCenter, vdcIds: [vdcId, otherVdc].sort() });
    expect(r.body.invoices.map((i: { vdcId: string }) => i.vdcId)).toEqual([vdcId]);
    const workflows = new Set(r.body.invoices.flatMap((i: { lines: { provenance: { workflowId: string } }[] }) => i.lines.map((l) => l.provenance.workflowId)));
    expect([...workflows].sort()).toEqual([...ticketIds].sort());
    const byTeam = await call('finance', 'GET', `/api/reports/labels?label=example.com/team=edge&month=${month}&asOf=${encodeURIComponent(asOf)}`);
    expect(byTeam.body.scope.vdcIds).toContain(vdcId);
    expect(byTeam.body.scope.vdcIds).not.toContain(otherVdc);
    const none = await call('finance', 'GET', `/api/reports/labels?label=cost-center=${costCenter}-none&month=${month}`);
    expect(none.status).toBe(200);
    expect(none.body.invoices).toEqual([]);
    expect((await call('vdcadmin', 'GET', path)).status).toBe(403);
    const badSelector = await call('finance', 'GET', `/api/reports/labels?label=no-value&month=${month}`);
    expect(badSelector.status).toBe(400);
    expect(JSON.stringify(badSelector.body.errors)).toContain('label');

    const from = `${month}-01`;
    const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString().slice(0, 10);
    const missing = await call('finance', 'POST', '/api/reports/jobs', { scope: 'label', from, to: next, kind: 'showback', format: 'csv' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body.errors)).toContain('label');
    const sub = await call('finance', 'POST', '/api/reports/jobs', {
      scope: 'label',
      label: `cost-center=${costCenter}`,
      from,
      to: next,
      kind: 'showback',
      format: 'csv',
    });
    expect(sub.status).toBe(202);
    const done = await until(
      () => call('finance', 'GET', `/api/reports/jobs/${sub.body.id}`),
      (j) => j.body?.state === 'done' || j.body?.state === 'failed',
      120_000,
    );
    expect(done.body.state).toBe('done');
    const file = await call('finance', 'GET', done.body.downloadUrl);
    // A job's asOf is the hour it was submitted in; the synchronous report defaults to the same.
    const sync = await call('finance', 'GET', `/api/reports/labels?label=cost-center=${costCenter}&from=${from}&to=${next}&kind=showback&format=csv`);
    expect(file.text).toBe(sync.text);
    expect(file.text.split('\r\n')[0]).toBe('row,vdc_id,domain_id,pool,resource,unit,usage,currency,amount,ledger_lines');
    expect(file.text).not.toContain(otherVdc);
  });
});

describe('background report jobs, PDF and what-if over HTTP (real Redis, Mongo, api and worker)', () => {
  const month = new Date().toISOString().slice(0, 7);
  const from = `${month}-01`;
  const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString().slice(0, 10);

  async function finished(user: string, id: string): Promise<{ status: number; body: any }> {
    return until(
      () => call(user, 'GET', `/api/reports/jobs/${id}`),
      (r) => r.body?.state === 'done' || r.body?.state === 'failed',
      120_000,
    );
  }

  it('a CSV job runs in the worker, reports progress and serves the same bytes as the synchronous report', async () => {
    const request = { scope: 'domain', id: domainId, from, to: next, kind: 'showback', format: 'csv' };
    const sub = await call('finance', 'POST', '/api/reports/jobs', request);
    expect(sub.status).toBe(202);
    expect(sub.body).toMatchObject({ state: 'queued' });
    const done = await finished('finance', sub.body.id);
    expect(done.body).toMatchObject({ id: sub.body.id, state: 'done', progress: 100, downloadUrl: `/api/reports/jobs/${sub.body.id}/download`, request });
    const file = await call('finance', 'GET', done.body.downloadUrl);
    expect(file.status).toBe(200);
    expect(file.type).toContain('text/csv');
    const sync = await call('finance', 'GET', `/api/reports/domains/${domainId}?from=${from}&to=${next}&kind=showback&format=csv`);
    // Both bounded by the current hour (the ledger lines of this run may start within it, billing nothing yet).
    expect(file.text).toBe(sync.text);
    expect(file.text.split('\r\n')[0]).toBe('row,vdc_id,domain_id,pool,resource,unit,usage,currency,amount,ledger_lines');
    // Not the requester and not a platform report reader: the job does not exist for them.
    expect((await call('vdcadmin', 'GET', `/api/reports/jobs/${sub.body.id}`)).status).toBe(404);
    expect((await call('vdcadmin', 'GET', `/api/reports/jobs/${sub.body.id}/download`)).status).toBe(404);
  });

  it('a tenant runs a PDF invoice job for its own VDC only; bad requests name the field', async () => {
    const sub = await call('vdcadmin', 'POST', '/api/reports/jobs', { scope: 'vdc', id: vdcId, from, to: next, kind: 'chargeback', format: 'pdf' });
    expect(sub.status).toBe(202);
    const done = await finished('vdcadmin', sub.body.id);
    expect(done.body.state).toBe('done');
    const res = await fetch(`${base}${done.body.downloadUrl}`, { headers: { cookie: cookies.vdcadmin! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain(`edgeport-chargeback-vdc-${vdcId}-${from}-${next}.pdf`);
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    // Platform finance may read any job.
    expect((await call('finance', 'GET', `/api/reports/jobs/${sub.body.id}`)).status).toBe(200);

    expect(
      (await call('vdcadmin', 'POST', '/api/reports/jobs', { scope: 'vdc', id: otherVdc, from, to: next, kind: 'chargeback', format: 'csv' })).status,
    ).toBe(404);
    expect((await call('vdcadmin', 'POST', '/api/reports/jobs', { scope: 'platform', from, to: next, kind: 'chargeback', format: 'csv' })).status).toBe(403);
    const bad = await call('finance', 'POST', '/api/reports/jobs', { scope: 'vdc', id: vdcId, from, to: from, kind: 'chargeback', format: 'xls' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('format');
    expect((await call('finance', 'GET', '/api/reports/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('the synchronous routes answer PDF too', async () => {
    const res = await fetch(`${base}/api/reports/vdcs/${vdcId}?month=${month}&format=pdf`, { headers: { cookie: cookies.vdcadmin! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
  });

  it('what-if re-prices the period under a draft book, per VDC; finance only', async () => {
    const draft = { currency: 'CNY', prices: [{ resource: 'cpu', unitPrice: '1' }] };
    const r = await call('finance', 'POST', '/api/pricebook/what-if', { from, to: next, draft });
    expect(r.status).toBe(200);
    expect(r.body.currency).toBe('CNY');
    expect(r.body).toMatchObject({ current: { total: expect.any(String) }, draft: { total: expect.any(String) } });
    // Up to now (to the hour): every VDC row's delta is draft − current.
    for (const row of r.body.vdcs as { current: string; draft: string; delta: string }[]) {
      expect(Math.round((Number(row.draft) - Number(row.current)) * 100)).toBe(Math.round(Number(row.delta) * 100));
    }
    expect((await call('vdcadmin', 'POST', '/api/pricebook/what-if', { from, to: next, draft })).status).toBe(403);
    const bad = await call('finance', 'POST', '/api/pricebook/what-if', { from, to: next, draft: { prices: [{ resource: 'cpu', unitPrice: 1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('draft.prices[0].unitPrice');
  });
});
