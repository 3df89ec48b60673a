import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { FAILPOINTS } from '../infra/failpoints.ts';
import type { QuotaChangeTicketView as TicketView } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';

/**
 * The walking skeleton end to end over HTTP, with the api and worker as real processes against the
 * real stack (OIDC login, MongoDB, Temporal, kube-apiserver), including crashes at the worst moments.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('slice');
const namespace = namespaceOf(vdcId);

let store: Store;
let temporal: Client;
let api: AppProcess;
let worker: AppProcess;
const cookies: Record<string, string> = {};

const startApi = async (extra: Record<string, string> = {}): Promise<AppProcess> => {
  const p = startApp(repoDir, 'api', { ...env, EDGEPORT_RECONCILE_SECONDS: '1', ...extra });
  if (!extra.EDGEPORT_FAILPOINTS) await waitForApi(p, base);
  return p;
};
const startWorker = async (extra: Record<string, string> = {}): Promise<AppProcess> => {
  const p = startApp(repoDir, 'worker', { ...env, ...extra });
  await waitForWorker(p);
  return p;
};

async function call(user: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie: cookies[user] ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function until(user: string, id: string, pred: (t: TicketView) => boolean, timeoutMs = 60_000): Promise<TicketView> {
  const deadline = Date.now() + timeoutMs;
  let last: TicketView | undefined;
  while (Date.now() < deadline) {
    const r = await call(user, 'GET', `/api/tickets/${id}`);
    last = r.body as TicketView;
    if (r.status === 200 && pred(last)) return last;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`ticket ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
}

const submit = (user: string, quota: Record<string, unknown>, key?: string) =>
  call(user, 'POST', '/api/tickets', { type: 'quota-change', vdcId, quota }, key ? { 'idempotency-key': key } : {});

/** tsx relays its child's SIGKILL as exit code 137. */
const crashed = (p: AppProcess): boolean => p.child.signalCode === 'SIGKILL' || p.child.exitCode === 137;

const ticketCount = () => store.testing.collection('tickets').countDocuments({ 'vdc.id': vdcId });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  await seedVdc(store, kube, { id: vdcId, name: 'Slice VDC', domainId: 'slice-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  for (const [username, role] of [
    ['tenant', 'vdc-user'],
    ['vdcadmin', 'vdc-admin'],
  ] as const) {
    await grant(store, demoUserByUsername(username)!, [{ role, scope: { type: 'vdc', vdcId } }]);
  }
  [worker, api] = await Promise.all([startWorker(), startApi()]);
  for (const u of ['tenant', 'vdcadmin', 'other', 'opsadmin']) cookies[u] = await loginAs(base, u, demoUserByUsername(u)!.password);
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await temporal?.connection.close();
  await store?.close();
});

describe('quota change slice over HTTP', () => {
  it('tenant submits, VDC admin approves, the ResourceQuota changes, the ticket completes with its timeline', async () => {
    const sub = await submit('tenant', { cpu: 5, memoryGi: 10, pods: 25 });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    const pending = await until('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect(pending.preview?.current).toMatchObject({ cpu: 4, memoryGi: 8, pods: 20 });
    expect((pending as TicketView & { canDecide: boolean }).canDecide).toBe(true);
    const inbox = await call('vdcadmin', 'GET', '/api/tickets?scope=inbox');
    expect(inbox.body.items.map((t: TicketView) => t.id)).toContain(id);

    const dec = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', comment: 'ok', previewHash: pending.preview?.hash });
    expect(dec.status).toBe(200);
    const done = await until('tenant', id, (t) => t.status === 'completed');
    expect(done.approvals[0]).toMatchObject({ decision: 'approve', comment: 'ok', actor: { name: 'Victor VDC-Admin' } });
    expect((await readQuota(kube, namespace)).hard).toEqual({ cpu: 5, memoryGi: 10, pods: 25 });
    expect(await store.ledger.byWorkflow(id)).toHaveLength(1);

    const timeline = await call('tenant', 'GET', `/api/tickets/${id}/timeline`);
    // Preflight, decision, the re-check preflight right before applying (drift sends it back), apply, ledger.
    expect(timeline.body.items.map((e: { kind: string; title: string }) => `${e.kind}: ${e.title}`)).toEqual([
      'submitted: Ticket submitted',
      'activity: Preflight: read ResourceQuota and usage',
      'decision: Approved',
      'activity: Preflight: read ResourceQuota and usage',
      'activity: Applied ResourceQuota (server-side apply)',
      'activity: Ledger line written',
      'completed: Ticket completed',
    ]);

    const again = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'reject' });
    expect(again.status).toBe(409);
    expect((await call('tenant', 'GET', `/api/tickets/${id}`)).body.status).toBe('completed');
  });

  it.each([
    ['negative quantity', { type: 'quota-change', vdcId: 'VDC', quota: { cpu: -1 } }, 'quota.cpu'],
    ['non-numeric quantity', { type: 'quota-change', vdcId: 'VDC', quota: { memoryGi: '8Gi' } }, 'quota.memoryGi'],
    ['fractional pods', { type: 'quota-change', vdcId: 'VDC', quota: { pods: 1.5 } }, 'quota.pods'],
    ['unknown resource', { type: 'quota-change', vdcId: 'VDC', quota: { gpu: 1 } }, 'quota.gpu'],
    ['missing VDC', { type: 'quota-change', quota: { cpu: 1 } }, 'vdcId'],
    ['unknown field', { type: 'quota-change', vdcId: 'VDC', quota: { cpu: 1 }, extra: true }, 'extra'],
    ['no resource', { type: 'quota-change', vdcId: 'VDC', quota: {} }, 'quota'],
    ['unknown type', { type: 'format-disk', vdcId: 'VDC' }, 'type'],
    ['NoSQL operator', { type: 'quota-change', vdcId: { $gt: '' }, quota: { cpu: 1 } }, 'vdcId'],
    ['VDC not visible', { type: 'quota-change', vdcId: 'other', quota: { cpu: 1 } }, 'vdcId'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_name, body, field) => {
    const before = await ticketCount();
    const r = await call('tenant', 'POST', '/api/tickets', JSON.parse(JSON.stringify(body).replace('"VDC"', JSON.stringify(vdcId))));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ticketCount()).toBe(before);
  });

  it('refuses malformed JSON and a quota above the platform ceiling (422), storing nothing', async () => {
    const before = await ticketCount();
    const bad = await call('tenant', 'POST', '/api/tickets', '{"type": "quota-change",');
    expect(bad.status).toBe(400);
    const denied = await submit('tenant', { cpu: 100_000 });
    expect(denied.status).toBe(422);
    expect(denied.body.errors).toEqual([{ field: 'quota.cpu', message: expect.stringMatching(/ceiling/) }]);
    expect(await ticketCount()).toBe(before);
  });

  it('isolates tenants: another VDC admin gets 404, a VDC user cannot decide, nobody approves their own ticket', async () => {
    const sub = await submit('vdcadmin', { pods: 30 });
    const id = sub.body.id as string;
    await until('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect((await call('other', 'GET', `/api/tickets/${id}`)).status).toBe(404);
    expect((await call('other', 'GET', `/api/tickets/${id}/timeline`)).status).toBe(404);
    expect((await call('other', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' })).status).toBe(404);
    expect((await call('other', 'GET', '/api/tickets?scope=all')).body.items.map((t: TicketView) => t.id)).not.toContain(id);
    expect((await call('tenant', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' })).status).toBe(403);
    const self = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' });
    expect(self.status).toBe(403);
    expect(self.body.detail).toMatch(/own ticket/);
    expect((await call('vdcadmin', 'GET', `/api/tickets/${id}`)).body.approvals[0].decision).toBeUndefined();
    expect((await call('anonymous', 'GET', `/api/tickets/${id}`)).status).toBe(401);
    const cancel = await call('vdcadmin', 'POST', `/api/tickets/${id}/cancel`, { reason: 'test done' });
    expect(cancel.status).toBe(200);
    await until('vdcadmin', id, (t) => t.status === 'cancelled');
  });

  it('a submit retried with the same idempotency key returns the same ticket', async () => {
    const key = uniqueName('key');
    const before = await ticketCount();
    const [a, b] = await Promise.all([submit('tenant', { pods: 31 }, key), submit('tenant', { pods: 31 }, key)]);
    const c = await submit('tenant', { pods: 31 }, key);
    expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(1);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(c.status).toBe(200);
    expect(await ticketCount()).toBe(before + 1);
    await call('tenant', 'POST', `/api/tickets/${a.body.id}/cancel`, {});
  });

  it('a retry after the ticket changed what its policy checks returns the same ticket, not a refusal', async () => {
    const key = uniqueName('replay');
    const space = uniqueName('sp').slice(0, 30);
    const body = { type: 'space-create', vdcId, name: space, reason: 'replay test' };
    const first = await call('tenant', 'POST', '/api/tickets', body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const id = first.body.id as string;
    await until('tenant', id, (t) => t.status === 'pending_approval' && t.currentStep === 0);
    expect((await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' })).status).toBe(200);
    await until('tenant', id, (t) => t.status === 'completed');
    // The space exists now, so a fresh submit is refused; the replay answers with the first ticket.
    expect((await call('tenant', 'POST', '/api/tickets', body)).status).toBe(422);
    const replay = await call('tenant', 'POST', '/api/tickets', body, { 'idempotency-key': key });
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(id);
  });

  it('API killed between storing the ticket and starting its workflow: the restarted API starts exactly one', async () => {
    await api.stop();
    api = await startApi({ EDGEPORT_FAILPOINTS: FAILPOINTS.apiAfterInsert });
    await waitForApi(api, base).catch(() => undefined);
    const key = uniqueName('crash');
    const before = await ticketCount();
    await expect(submit('tenant', { cpu: 6 }, key)).rejects.toThrow();
    await api.stop();
    expect(crashed(api)).toBe(true);
    expect(await ticketCount()).toBe(before + 1);
    const stored = await store.testing.collection('tickets').findOne({ idempotencyKey: key });
    expect(stored?.workflowStarted).toBe(false);

    api = await startApi();
    const id = String(stored?._id);
    await until('tenant', id, (t) => t.status === 'pending_approval');
    const retried = await submit('tenant', { cpu: 6 }, key);
    expect(retried).toMatchObject({ status: 200, body: { id } });
    const runs = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.runId);
    expect(runs).toHaveLength(1);
    await call('tenant', 'POST', `/api/tickets/${id}/cancel`, {});
  });

  it('worker killed inside the apply activity: the ticket still completes with one apply and one ledger line', async () => {
    await worker.stop();
    worker = await startWorker({ EDGEPORT_FAILPOINTS: FAILPOINTS.workerAfterApply });
    const sub = await submit('tenant', { memoryGi: 11 });
    const id = sub.body.id as string;
    await until('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect((await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' })).status).toBe(200);
    await new Promise<void>((resolve) => worker.child.once('exit', () => resolve()));
    expect(crashed(worker)).toBe(true);
    expect((await readQuota(kube, namespace)).hard.memoryGi).toBe(11);
    worker = await startWorker();
    const done = await until('tenant', id, (t) => t.status === 'completed', 90_000);
    expect(done.status).toBe('completed');
    expect(await store.ledger.byWorkflow(id)).toHaveLength(1);
    const timeline = await call('tenant', 'GET', `/api/tickets/${id}/timeline`);
    expect(timeline.body.items).toContainEqual(expect.objectContaining({ kind: 'retry', title: expect.stringMatching(/Applied/) }));
    // Two worker starts and the activity's timeout before its retry, plus the 90 s wait above: 60 s was too short on a loaded machine.
  }, 240_000);
});
