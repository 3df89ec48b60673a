import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../activities/kube/client.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';
import type { LedgerVerifyResult } from './services/ledger-verify.ts';

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
  const pending = await until(() => call('vdcadmin', 'GET', `/api/tickets/${id}`), (r) => r.body?.status === 'pending_approval' || r.body?.status === 'completed');
  if (pending.body.status === 'pending_approval') {
    const dec = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.body.preview?.hash });
    expect(dec.status).toBe(200);
  }
  const done = await until(() => call('tenant', 'GET', `/api/tickets/${id}`), (r) => r.body?.status === 'completed');
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

    const cli = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'api/cli.ts', 'ledger', 'verify', '--vdc', vdcId], { cwd: repoDir, env: process.env });
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, rebuiltLines: 2, storedLines: 2, differences: [] });
  });

  it('reports exactly the edited and the deleted line after tampering, then zero again once restored', async () => {
    const [first, second] = await Promise.all(ticketIds.map((id) => store.ledger.byWorkflow(id)));
    const edited = first![0]!;
    const deleted = second![0]!;
    const lines = store.conn.collection('ledgerlines');
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
    const lines = store.conn.collection('ledgerlines');
    await lines.insertOne(fake as never);
    try {
      const r = (await verify()).body as LedgerVerifyResult;
      expect(r.differences.map((d) => [d.kind, d.id])).toEqual([['extra', fake._id]]);
    } finally {
      await lines.deleteOne({ _id: fake._id as never });
    }
  });

  it('refuses a malformed body naming the field', async () => {
    const r = await call('finance', 'POST', '/api/ledger/verify', { vdcIds: ['Not A Label'] });
    expect(r.status).toBe(400);
    expect(r.text).toContain('vdcIds[0]');
  });
});

describe('price book and reports over HTTP', () => {
  it('only operations admins publish; a version takes effect next month and is audited', async () => {
    const body = { currency: 'CNY', prices: [{ resource: 'cpu', unitPrice: '0.05' }] };
    expect((await call('vdcadmin', 'POST', '/api/pricebook', body)).status).toBe(403);
    expect((await call('finance', 'POST', '/api/pricebook', body)).status).toBe(403);
    const bad = await call('opsadmin', 'POST', '/api/pricebook', { prices: [{ resource: 'cpu', unitPrice: 0.05 }] });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('prices[0].unitPrice');
    const ok = await call('opsadmin', 'POST', '/api/pricebook', body);
    expect(ok.status).toBe(201);
    const now = new Date();
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
    const workflows = new Set(own.body.invoices.flatMap((i: { lines: { provenance: { workflowId: string } }[] }) => i.lines.map((l) => l.provenance.workflowId)));
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
