import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { readNamespace } from '../infra/kube/space.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { openStore, type Store } from '../store/index.ts';

/** Application space tickets over HTTP with the api and worker as real processes against the real stack. */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('spc');
const quota = { cpu: 2, memoryGi: 4, pods: 10 };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login, untilTicket } = testHttp();

const ticketCount = () => store.testing.collection('tickets').countDocuments({ 'vdc.id': vdcId });
const readRoleBinding = (namespace: string, name: string) =>
  kube.objects.read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace } }) as Promise<{
    subjects?: { name: string }[];
  }>;

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Space VDC', domainId: 'space-domain', quota });
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

describe('application space tickets over HTTP', () => {
  it('VDC user asks for a space, the VDC admin approves, the namespace is made; then deleted the same way', async () => {
    const namespace = `${vdcId}-shop`;
    const sub = await call('tenant', 'POST', '/api/tickets', { type: 'space-create', vdcId, name: 'shop', labels: { team: 'web' } });
    expect(sub.status).toBe(201);
    expect(sub.body).toMatchObject({ type: 'space-create', policy: { outcome: 'approval', chain: [{ role: 'vdc-admin' }] } });
    const id = sub.body.id as string;
    const pending = await untilTicket('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect(pending.preview).toMatchObject({ action: 'create', namespace, labels: { team: 'web', 'edgeport.io/space': 'shop' } });
    const dec = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash });
    expect(dec.status).toBe(200);
    await untilTicket('tenant', id, (t) => t.status === 'completed');
    expect((await readNamespace(kube, namespace))?.metadata?.labels).toMatchObject({ 'edgeport.io/vdc': vdcId, team: 'web' });
    expect((await readQuota(kube, namespace)).hard).toEqual(quota);
    expect((await readRoleBinding(namespace, 'edgeport-admin')).subjects?.map((s) => s.name)).toEqual(['oidc:u-vdcadmin']);
    expect((await readRoleBinding(namespace, 'edgeport-edit')).subjects?.map((s) => s.name)).toEqual(['oidc:u-tenant']);
    expect(await store.spaces.list(vdcId)).toMatchObject([{ name: 'shop', namespace, status: 'active' }]);

    const dup = await call('vdcadmin', 'POST', '/api/tickets', { type: 'space-create', vdcId, name: 'shop' });
    expect(dup.status).toBe(422);
    expect(dup.body.errors).toEqual([{ field: 'name', message: expect.stringMatching(/already exists/) }]);

    const del = await call('tenant', 'POST', '/api/tickets', { type: 'space-delete', vdcId, name: 'shop' });
    expect(del.status).toBe(201);
    const delPending = await untilTicket('vdcadmin', del.body.id, (t) => t.status === 'pending_approval');
    expect(delPending.preview).toMatchObject({ action: 'delete', namespace });
    expect((await call('vdcadmin', 'POST', `/api/tickets/${del.body.id}/decisions`, { decision: 'approve' })).status).toBe(200);
    await untilTicket('tenant', del.body.id, (t) => t.status === 'completed');
    expect(await readNamespace(kube, namespace)).toBeUndefined();
    expect(await store.spaces.list(vdcId)).toEqual([]);
  });

  it.each([
    ['upper-case name', { type: 'space-create', vdcId: 'VDC', name: 'Shop' }, 'name'],
    ['name longer than 40', { type: 'space-create', vdcId: 'VDC', name: 'a'.repeat(41) }, 'name'],
    ['missing name', { type: 'space-create', vdcId: 'VDC' }, 'name'],
    ['label key with a space', { type: 'space-create', vdcId: 'VDC', name: 'x', labels: { 'bad key': 'v' } }, 'labels.bad key'],
    ['reserved label prefix', { type: 'space-create', vdcId: 'VDC', name: 'x', labels: { 'edgeport.io/vdc': 'other' } }, 'labels.edgeport.io/vdc'],
    [
      'pod security label',
      { type: 'space-create', vdcId: 'VDC', name: 'x', labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } },
      'labels.pod-security.kubernetes.io/enforce',
    ],
    ['label value too long', { type: 'space-create', vdcId: 'VDC', name: 'x', labels: { team: 'v'.repeat(64) } }, 'labels.team'],
    ['label value not a string', { type: 'space-create', vdcId: 'VDC', name: 'x', labels: { team: 1 } }, 'labels.team'],
    ['unknown field', { type: 'space-create', vdcId: 'VDC', name: 'x', quota: { cpu: 1 } }, 'quota'],
    ['delete without name', { type: 'space-delete', vdcId: 'VDC' }, 'name'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_name, body, field) => {
    const before = await ticketCount();
    const r = await call('tenant', 'POST', '/api/tickets', JSON.parse(JSON.stringify(body).replace('"VDC"', JSON.stringify(vdcId))));
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ticketCount()).toBe(before);
  });

  it('refuses deleting a space the VDC does not have (422 naming the field)', async () => {
    const r = await call('vdcadmin', 'POST', '/api/tickets', { type: 'space-delete', vdcId, name: 'nope' });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([{ field: 'name', message: 'no application space nope in this VDC' }]);
  });
});
