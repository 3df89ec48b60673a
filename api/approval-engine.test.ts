import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { CostPreview } from '../common/billing.ts';
import type { RoleBinding } from '../common/roles.ts';
import type { TicketView, TimelineEntry } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { openStore, type Store } from '../store/index.ts';
import { PRICEBOOK_COLLECTION } from '../store/pricebook.ts';

/**
 * The approval engine over HTTP (real api and worker processes, real stack): the VDC budget and the
 * auto-approval of small increases under it, the cost preview on every quota ticket, delegates deciding
 * from their inbox (and nothing else), and cancelling an approved lease before it starts.
 *
 * A price book version in force this month is published for the test (`publish` with a date in the
 * previous month) and removed afterwards; cpu costs 1.00 a core-hour in it.
 */
type View = TicketView & { canDecide?: boolean; onBehalfOf?: { sub: string; name: string }; preview?: { cost?: CostPreview } };

const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const domainId = uniqueName('aed');
const vdcId = uniqueName('ae');
const farVdc = uniqueName('aef');
const users = ['tenant', 'vdcadmin', 'opsadmin', 'finance'] as const;
const { call, login, untilTicket } = testHttp();
const original: Record<string, RoleBinding[]> = {};
const now = new Date();
const hoursThisMonth = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) / 3_600_000;

let store: Store;
let api: AppProcess;
let worker: AppProcess;
let bookVersion = 0;

const until = (id: string, pred: (t: View) => boolean): Promise<View> => untilTicket('opsadmin', id, pred, { timeout: 90_000 });

const submit = async (body: Record<string, unknown>, vdc = vdcId): Promise<View> => {
  const r = await call('tenant', 'POST', '/api/tickets', { vdcId: vdc, ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as View;
};
const settled = (id: string) => until(id, (t) => t.status !== 'submitted' && t.preview !== undefined);
const inSeconds = (s: number): string => new Date(Date.now() + s * 1000).toISOString();
/** cpu at 1.00 a core-hour for a whole month, as the preview formats it. */
const cpuMonthly = (cores: number): string => (Math.round(cores * hoursThisMonth * 100) / 100).toFixed(2);

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  for (const u of users) original[u] = await store.users.bindings(demoUserByUsername(u)!.sub);
  await store.domains.create({ _id: domainId, name: domainId });
  await seedVdc(store, kube, { id: vdcId, name: 'Approval engine VDC', domainId, quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await seedVdc(store, kube, { id: farVdc, name: 'Far VDC', domainId, quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await grant(store, demoUserByUsername('tenant')!, [
    { role: 'vdc-user', scope: { type: 'vdc', vdcId } },
    { role: 'vdc-user', scope: { type: 'vdc', vdcId: farVdc } },
  ]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15));
  const v = await store.priceBooks.publish(
    {
      currency: 'CNY',
      note: `approval-engine test ${vdcId}`,
      prices: [
        { resource: 'cpu', pool: '*', arch: '*', unitPrice: '1' },
        { resource: 'memory', pool: '*', arch: '*', unitPrice: '0' },
        { resource: 'pods', pool: '*', arch: '*', unitPrice: '0' },
        { resource: 'edgeNode', pool: '*', arch: '*', unitPrice: '0.5' },
      ],
    },
    { sub: 'test', name: 'test' },
    lastMonth,
  );
  bookVersion = v.version;
  const env = appEnvFromProcess();
  [worker, api] = [startApp(repoDir, 'worker', env), startApp(repoDir, 'api', env)];
  await Promise.all([waitForWorker(worker), waitForApi(api, base)]);
  await login(...users);
}, 240_000);

afterAll(async () => {
  for (const u of users) {
    const d = demoUserByUsername(u)!;
    if (original[u]) await store.users.upsert({ _id: d.sub, username: d.username, name: d.name, email: d.email, bindings: original[u] }).catch(() => undefined);
  }
  await store?.testing.collection('delegations').deleteMany({ 'delegator.sub': 'u-vdcadmin', 'delegate.sub': 'u-finance' });
  if (bookVersion) await store?.testing.collection(PRICEBOOK_COLLECTION).deleteOne({ _id: bookVersion as never });
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('VDC budget and auto-approval within 10% under budget', () => {
  it('only domain and operations admins set a budget; bad input names the field', async () => {
    expect((await call('vdcadmin', 'PUT', `/api/vdcs/${vdcId}/budget`, { monthlyBudget: { amount: '100000', currency: 'CNY' } })).status).toBe(403);
    for (const [body, field] of [
      [{ monthlyBudget: { amount: '12.345', currency: 'CNY' } }, 'monthlyBudget.amount'],
      [{ monthlyBudget: { amount: '-1', currency: 'CNY' } }, 'monthlyBudget.amount'],
      [{ monthlyBudget: { amount: '10', currency: 'yuan' } }, 'monthlyBudget.currency'],
      [{ monthlyBudget: { amount: '10', currency: 'CNY' }, extra: 1 }, ''],
      [{}, 'monthlyBudget'],
    ] as const) {
      const r = await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/budget`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (field) expect(JSON.stringify(r.body.errors), JSON.stringify(body)).toContain(field);
    }
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body.monthlyBudget).toBeUndefined();
    const ok = await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/budget`, { monthlyBudget: { amount: '100000.00', currency: 'CNY' } });
    expect(ok.status).toBe(200);
    expect(ok.body.monthlyBudget).toEqual({ amount: '100000.00', currency: 'CNY' });
    expect((await call('vdcadmin', 'GET', `/api/vdcs/${vdcId}`)).body.monthlyBudget).toEqual({ amount: '100000.00', currency: 'CNY' });
  });

  it('an increase within 10% under budget is auto-approved with the reason recorded, and completes', async () => {
    const t = await submit({ type: 'quota-change', quota: { cpu: 4.4 } });
    expect(t.policy).toMatchObject({ outcome: 'auto-approve', chain: [] });
    expect(t.policy.reason).toBe(
      `increase within 10% (cpu 4 → 4.4) and under budget: ${cpuMonthly(4.4)} CNY/month ≤ 100000.00 CNY (price book v${bookVersion})`,
    );
    const done = await until(t.id, (x) => x.status === 'completed');
    expect(done.preview?.cost).toMatchObject({
      priceBookVersion: bookVersion,
      currency: 'CNY',
      monthlyDelta: cpuMonthly(0.4),
      lines: [{ resource: 'cpu', current: '4.000000', proposed: '4.400000', unitPrice: '1' }],
    });
  });

  it('above 10%, or over the budget: the approval chain, the preview still priced', async () => {
    const big = await submit({ type: 'quota-change', quota: { cpu: 6 } });
    expect(big.policy).toMatchObject({ outcome: 'approval', reason: 'increase of cpu' });
    const pending = await settled(big.id);
    expect(pending.status).toBe('pending_approval');
    expect(pending.preview?.cost).toMatchObject({ priceBookVersion: bookVersion, monthlyDelta: cpuMonthly(1.6) });
    expect((await call('vdcadmin', 'POST', `/api/tickets/${big.id}/decisions`, { decision: 'reject', comment: 'not this month' })).status).toBe(200);
    expect((await until(big.id, (x) => x.status === 'rejected')).approvals[0]).toMatchObject({ decision: 'reject', actor: { sub: 'u-vdcadmin' } });

    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/budget`, { monthlyBudget: { amount: '10.00', currency: 'CNY' } })).status).toBe(200);
    const over = await submit({ type: 'quota-change', quota: { cpu: 4.5 } });
    expect(over.policy).toMatchObject({ outcome: 'approval' });
    expect(over.policy.reason).toBe(
      `increase of cpu; not auto-approved: ${cpuMonthly(4.5)} CNY/month exceeds the budget of 10.00 CNY (price book v${bookVersion})`,
    );
    await call('tenant', 'POST', `/api/tickets/${over.id}/cancel`, {});
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/budget`, { monthlyBudget: null })).body.monthlyBudget).toBeUndefined();
  });
});

describe('delegation', () => {
  it("the delegate sees the delegated ticket in their inbox, decides it on the approver's behalf, and gains nothing else", async () => {
    const d = await call('vdcadmin', 'PUT', '/api/delegations', { delegateSub: 'u-finance', until: inSeconds(3600) });
    expect(d.status).toBe(201);
    const t = await settled((await submit({ type: 'quota-change', quota: { cpu: 5 } })).id);
    const far = await settled((await submit({ type: 'quota-change', quota: { cpu: 5 } }, farVdc)).id);
    expect(t.status).toBe('pending_approval');

    const inbox = (await call('finance', 'GET', '/api/tickets?scope=inbox')).body.items as View[];
    expect(inbox.find((x) => x.id === t.id)).toMatchObject({ canDecide: true, onBehalfOf: { sub: 'u-vdcadmin', name: 'Victor VDC-Admin' } });
    expect(inbox.some((x) => x.id === far.id)).toBe(false);
    const seen = await call('finance', 'GET', `/api/delegated-tickets/${t.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.preview.cost.priceBookVersion).toBe(bookVersion);

    // No other rights: not the ticket through the ordinary routes, not its timeline, no cancel, not the far VDC's ticket.
    for (const [method, path] of [
      ['GET', `/api/tickets/${t.id}`],
      ['GET', `/api/tickets/${t.id}/timeline`],
      ['POST', `/api/tickets/${t.id}/cancel`],
      ['POST', `/api/tickets/${t.id}/decisions`],
      ['GET', `/api/delegated-tickets/${far.id}`],
    ] as const) {
      const r = await call('finance', method, path, method === 'POST' ? { decision: 'approve' } : undefined);
      expect([403, 404], `${method} ${path}`).toContain(r.status);
    }
    expect((await call('finance', 'POST', `/api/delegated-tickets/${far.id}/decisions`, { decision: 'approve' })).status).toBe(404);
    expect((await call('finance', 'POST', `/api/delegated-tickets/${t.id}/decisions`, { decision: 'maybe' })).status).toBe(400);

    const r = await call('finance', 'POST', `/api/delegated-tickets/${t.id}/decisions`, {
      decision: 'approve',
      comment: 'covering',
      previewHash: seen.body.preview.hash,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.onBehalfOf).toEqual({ sub: 'u-vdcadmin', name: 'Victor VDC-Admin' });
    const done = await until(t.id, (x) => x.status === 'completed');
    expect(done.approvals[0]).toMatchObject({ decision: 'approve', actor: { sub: 'u-finance' }, onBehalfOf: { sub: 'u-vdcadmin' }, comment: 'covering' });
    const timeline = (await call('tenant', 'GET', `/api/tickets/${t.id}/timeline`)).body.items as TimelineEntry[];
    expect(timeline).toContainEqual(expect.objectContaining({ kind: 'decision', title: 'Approved on behalf of Victor VDC-Admin', actor: 'Fiona Finance' }));
    expect((await call('finance', 'GET', '/api/tickets?scope=inbox')).body.items.some((x: View) => x.id === t.id)).toBe(false);
    await call('tenant', 'POST', `/api/tickets/${far.id}/cancel`, {});
  });

  it('after the delegation period the delegate neither sees nor decides', async () => {
    const until4s = inSeconds(4);
    expect((await call('vdcadmin', 'PUT', '/api/delegations', { delegateSub: 'u-finance', until: until4s })).status).toBe(200);
    const t = await settled((await submit({ type: 'quota-change', quota: { cpu: 5.5 } })).id);
    await new Promise((res) => setTimeout(res, Math.max(0, Date.parse(until4s) + 1000 - Date.now())));
    expect((await call('finance', 'GET', '/api/tickets?scope=inbox')).body.items.some((x: View) => x.id === t.id)).toBe(false);
    expect((await call('finance', 'GET', `/api/delegated-tickets/${t.id}`)).status).toBe(404);
    expect((await call('finance', 'POST', `/api/delegated-tickets/${t.id}/decisions`, { decision: 'approve' })).status).toBe(404);
    expect((await until(t.id, (x) => x.status === 'pending_approval')).approvals[0]?.decision).toBeUndefined();
    await call('tenant', 'POST', `/api/tickets/${t.id}/cancel`, {});
  });
});

describe('cancel', () => {
  const scheduledLease = async (): Promise<View> => {
    const t = await settled((await submit({ type: 'quota-lease', quota: { cpu: 7 }, startsAt: inSeconds(3600), durationHours: 1 })).id);
    expect(t.status).toBe('pending_approval');
    expect((await call('vdcadmin', 'POST', `/api/tickets/${t.id}/decisions`, { decision: 'approve' })).status).toBe(200);
    return until(t.id, (x) => x.status === 'approved');
  };

  it('the requester cancels an approved lease that has not started; nobody else without admin rights may', async () => {
    const t = await scheduledLease();
    expect([403, 404]).toContain((await call('finance', 'POST', `/api/tickets/${t.id}/cancel`, {})).status);
    const r = await call('tenant', 'POST', `/api/tickets/${t.id}/cancel`, { reason: 'plans changed' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const done = await until(t.id, (x) => x.status === 'cancelled');
    expect(done.error).toBe('cancelled by Tina Tenant: plans changed');
    expect((await call('tenant', 'POST', `/api/tickets/${t.id}/cancel`, {})).status).toBe(409);
  });

  it("an operations admin cancels someone else's scheduled lease; a completed ticket cannot be cancelled", async () => {
    const t = await scheduledLease();
    expect((await call('opsadmin', 'POST', `/api/tickets/${t.id}/cancel`, {})).status).toBe(200);
    expect((await until(t.id, (x) => x.status === 'cancelled')).error).toBe('cancelled by Olga Ops');
    const small = await submit({ type: 'quota-change', quota: { cpu: 2 } });
    await until(small.id, (x) => x.status === 'completed');
    expect((await call('tenant', 'POST', `/api/tickets/${small.id}/cancel`, {})).status).toBe(409);
  });
});
