import { spawn } from 'node:child_process';
import { PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients, FIELD_MANAGER } from '../infra/kube/client.ts';
import { applyQuota as applyResourceQuota, readQuota } from '../infra/kube/quota.ts';
import { spaceNamespace, type TicketViewOf } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * A quota lease over HTTP with the api and worker as real processes: submit → VDC admin approves →
 * the increase is on every ResourceQuota of the VDC → it reverts at its (short, real-time) end and the
 * ledger line covers exactly the lease. With EDGEPORT_RECORD_FIXTURE=<name>, the finished history is saved
 * as a replay fixture through `stack/record-history.ts`.
 */
type LeaseView = TicketViewOf<'quota-lease'>;
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('lease');
const namespaces = [namespaceOf(vdcId), spaceNamespace(vdcId, 'app')];
const baseQuota = { cpu: 4, memoryGi: 8, pods: 20 };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login, untilTicket } = testHttp();

const until = (id: string, pred: (t: LeaseView) => boolean): Promise<LeaseView> => untilTicket('tenant', id, pred);

const hard = () => Promise.all(namespaces.map(async (ns) => (await readQuota(kube, ns)).hard));
const ticketCount = () => store.testing.collection('tickets').countDocuments({ 'vdc.id': vdcId });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Lease VDC', domainId: 'lease-domain', quota: baseQuota });
  await kube.objects.patch(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaces[1], labels: { 'edgeport.io/vdc': vdcId } } },
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
  await applyResourceQuota(kube, namespaces[1]!, baseQuota, { 'edgeport.io/vdc': vdcId });
  await store.spaces.record(vdcId, { name: 'app', namespace: namespaces[1]!, status: 'active', ticketId: 'test-seed', createdAt: new Date().toISOString() });
  for (const [username, role] of [
    ['tenant', 'vdc-user'],
    ['vdcadmin', 'vdc-admin'],
  ] as const) {
    await grant(store, demoUserByUsername(username)!, [{ role, scope: { type: 'vdc', vdcId } }]);
  }
  worker = startApp(repoDir, 'worker', env);
  api = startApp(repoDir, 'api', env);
  await Promise.all([waitForWorker(worker), waitForApi(api, base)]);
  await login('tenant', 'vdcadmin');
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('quota lease over HTTP', () => {
  it('submit → VDC admin approves → applied to every namespace → reverted at the end; the ledger line is the lease interval', async () => {
    const sub = await call('tenant', 'POST', '/api/tickets', { type: 'quota-lease', vdcId, quota: { cpu: 6, pods: 25 }, durationHours: 0.005 });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    expect(sub.body.policy).toMatchObject({ outcome: 'approval', chain: [{ role: 'vdc-admin' }] });
    // Waits for the step's deadline too: approval.ts's SLA chain misses a decision arriving while it projects the step.
    const pending = await until(id, (t) => t.status === 'pending_approval' && !!t.approvals[0]?.deadline);
    expect(pending.preview).toMatchObject({ namespaces, current: baseQuota, requested: { cpu: 6, pods: 25 } });

    const dec = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash });
    expect(dec.status).toBe(200);
    await until(id, (t) => t.status === 'executing');
    const leased = { cpu: 6, memoryGi: 8, pods: 25 };
    for (let i = 0; i < 50 && JSON.stringify(await hard()) !== JSON.stringify([leased, leased]); i++) await new Promise((r) => setTimeout(r, 200));
    expect(await hard()).toEqual([leased, leased]);
    expect((await store.vdcs.get(vdcId))?.quota).toEqual(leased);

    await until(id, (t) => t.status === 'completed');
    expect(await hard()).toEqual([baseQuota, baseQuota]);
    expect((await store.vdcs.get(vdcId))?.quota).toEqual(baseQuota);
    const lines = await store.ledger.byWorkflow(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ fact: 'quota.lease', vdcId, quantities: { cpu: 2, pods: 5 } });
    expect(lines[0]!.end!.getTime() - lines[0]!.start.getTime()).toBe(18_000);

    const timeline = await call('tenant', 'GET', `/api/tickets/${id}/timeline`);
    expect(timeline.body.items.map((e: { title: string }) => e.title)).toEqual(
      expect.arrayContaining([expect.stringMatching(/Lease started/), expect.stringMatching(/Lease ended/)]),
    );

    const fixture = process.env.EDGEPORT_RECORD_FIXTURE;
    if (fixture) {
      const code = await new Promise<number | null>((resolve) =>
        spawn(`${repoDir}node_modules/.bin/tsx`, ['stack/record-history.ts', id, fixture], { cwd: repoDir, stdio: 'inherit', env: process.env }).on(
          'close',
          resolve,
        ),
      );
      expect(code).toBe(0);
    }
  }, 120_000);

  it.each([
    ['no end', { durationHours: undefined }, 'endsAt'],
    ['end and duration', { endsAt: '2030-01-02T00:00:00Z' }, 'endsAt'],
    ['end before start', { durationHours: undefined, startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' }, 'endsAt'],
    ['over 90 days', { durationHours: 2161 }, 'durationHours'],
    ['bad date', { durationHours: undefined, endsAt: 'next week' }, 'endsAt'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_n, extra, field) => {
    const before = await ticketCount();
    const r = await call('tenant', 'POST', '/api/tickets', { type: 'quota-lease', vdcId, quota: { cpu: 6 }, durationHours: 5, ...extra });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ticketCount()).toBe(before);
  });

  it('refuses a lease that ends in the past or increases nothing (422), storing nothing', async () => {
    const before = await ticketCount();
    const past = await call('tenant', 'POST', '/api/tickets', { type: 'quota-lease', vdcId, quota: { cpu: 6 }, endsAt: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(422);
    expect(past.body.errors).toEqual([{ field: 'endsAt', message: expect.stringMatching(/past/) }]);
    const none = await call('tenant', 'POST', '/api/tickets', { type: 'quota-lease', vdcId, quota: { cpu: 4 }, durationHours: 1 });
    expect(none.status).toBe(422);
    expect(none.body.errors[0].field).toBe('quota');
    expect(await ticketCount()).toBe(before);
  });
});
