import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { FAILPOINTS } from '../infra/failpoints.ts';
import type { TicketView } from '../common/tickets.ts';
import type { WorkloadPreview } from '../common/workload.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Workload deploy end to end over HTTP: the api and worker as real processes against the real stack
 * (OIDC login, MongoDB, Temporal, kube-apiserver with kwok nodes).
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('wlslice');
const namespace = namespaceOf(vdcId);

type View = TicketView & { preview?: WorkloadPreview; canDecide?: boolean };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login, untilTicket } = testHttp();

const startWorker = async (extra: Record<string, string> = {}): Promise<AppProcess> => {
  const p = startApp(repoDir, 'worker', { ...env, ...extra });
  await waitForWorker(p, 240_000);
  return p;
};

const until = (user: string, id: string, pred: (t: View) => boolean): Promise<View> => untilTicket(user, id, pred, { timeout: 90_000 });

const deploy = (user: string, workload: Record<string, unknown>) => call(user, 'POST', '/api/tickets', { type: 'workload-deploy', vdcId, workload });

const read = (apiVersion: string, kind: string, name: string): Promise<any> =>
  kube.objects.read({ apiVersion, kind, metadata: { name, namespace } }).then(
    (o) => o,
    () => undefined,
  );

const app = (name: string, extra: Record<string, unknown> = {}) => ({
  kind: 'Deployment',
  name,
  replicas: 1,
  containers: [
    { name: 'app', image: `registry.invalid/${name}:1`, requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' }, ...extra },
  ],
});

const ticketCount = () => store.testing.collection('tickets').countDocuments({ 'vdc.id': vdcId });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Workload slice VDC', domainId: 'wlslice-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  for (const [username, role] of [
    ['tenant', 'vdc-user'],
    ['vdcadmin', 'vdc-admin'],
    ['other', 'vdc-admin'],
  ] as const) {
    await grant(store, demoUserByUsername(username)!, [{ role, scope: { type: 'vdc', vdcId } }]);
  }
  api = startApp(repoDir, 'api', { ...env, EDGEPORT_RECONCILE_SECONDS: '1' });
  // Generous start-up: the api and the worker (webpack bundle) start together on a shared, busy machine.
  [worker] = await Promise.all([startWorker(), waitForApi(api, base, 240_000)]);
  await login('tenant', 'vdcadmin', 'other', 'opsadmin');
}, 300_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('workload deploy over HTTP', () => {
  it('tenant submits, VDC admin approves the dry-run preview, the objects are on the kube-apiserver, the ticket completes', async () => {
    const sub = await deploy('tenant', {
      ...app('web', { ports: [{ containerPort: 8080 }], env: [{ name: 'MODE', configMapRef: { name: 'web-config', key: 'mode' } }] }),
      service: { type: 'ClusterIP', port: 80, targetPort: 8080 },
      configMaps: [{ name: 'web-config', data: { mode: 'prod' } }],
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    const pending = await until('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect(pending.canDecide).toBe(true);
    expect(pending.preview).toMatchObject({ action: 'deploy', namespace, workload: 'web', revision: 1, errors: [], hash: expect.any(String) });
    expect(pending.preview?.objects).toEqual([
      { kind: 'ConfigMap', name: 'web-config', action: 'create' },
      { kind: 'Deployment', name: 'web', action: 'create' },
      { kind: 'Service', name: 'web', action: 'create' },
    ]);
    const dec = await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash });
    expect(dec.status).toBe(200);
    const done = await until('tenant', id, (t) => t.status === 'completed');
    expect(done.approvals[0]).toMatchObject({ decision: 'approve', actor: { name: 'Victor VDC-Admin' } });

    const dep = await read('apps/v1', 'Deployment', 'web');
    expect(dep?.metadata.labels).toMatchObject({ 'edgeport.io/ticket': id, 'app.kubernetes.io/managed-by': 'edgeport' });
    expect(dep?.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === 'edgeport' && f.operation === 'Apply')).toBe(true);
    expect(dep?.spec.template.spec.containers[0]).toMatchObject({
      image: 'registry.invalid/web:1',
      env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'mode' } } }],
    });
    expect((await read('v1', 'Service', 'web'))?.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
    expect((await read('v1', 'ConfigMap', 'web-config'))?.data).toEqual({ mode: 'prod' });
    const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=web' });
    expect(pods.items.map((p) => p.status?.phase)).toEqual(['Running']);
    expect(await store.workloads.get(namespace, 'web')).toMatchObject({ revision: 1, ticketId: id });

    const timeline = await call('tenant', 'GET', `/api/tickets/${id}/timeline`);
    expect(timeline.status).toBe(200);
    // The dry-run runs twice: at preflight and again right before applying (a changed cluster goes back to approval).
    expect(timeline.body.items.map((e: { kind: string; title: string }) => `${e.kind}: ${e.title}`)).toEqual([
      'submitted: Ticket submitted',
      'activity: Preflight: server-side dry-run of every object, quota and storage rules',
      'decision: Approved',
      'activity: Preflight: server-side dry-run of every object, quota and storage rules',
      'activity: Applied the workload objects (server-side apply)',
      'activity: Rollout finished',
      'activity: Workload revision recorded',
      'completed: Ticket completed',
    ]);
  });

  it.each([
    ['an unknown kind', { ...app('x'), kind: 'DaemonSet' }, 'workload.kind'],
    ['a bad Ingress host', { ...app('x'), service: { type: 'ClusterIP', port: 80 }, ingress: { host: 'Not A Host' } }, 'workload.ingress.host'],
    ['an Ingress without a Service', { ...app('x'), ingress: { host: 'x.example.com' } }, 'workload.ingress'],
    ['a CronJob without a schedule', { ...app('x'), kind: 'CronJob' }, 'workload.schedule'],
    [
      'a bad body size',
      { ...app('x'), service: { type: 'ClusterIP', port: 80 }, ingress: { host: 'x.example.com', bodySize: '10 MB' } },
      'workload.ingress.bodySize',
    ],
  ])('refuses %s with 400 naming the field, storing nothing', async (_n, workload, field) => {
    const before = await ticketCount();
    const r = await deploy('tenant', workload);
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ticketCount()).toBe(before);
  });

  it('a privileged container needs an operations admin: a second VDC admin is refused naming the rule, the ops admin approves', async () => {
    const sub = await deploy('tenant', app('priv', { securityContext: { privileged: true } }));
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    const pending = await until('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect(pending.policy.chain.map((s) => s.role)).toEqual(['vdc-admin', 'ops-admin']);
    expect((await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(200);
    await until('other', id, (t) => t.currentStep === 1);
    const refused = await call('other', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/^step 2 needs role ops-admin: .*rule privileged-needs-ops-admin/);
    expect(await read('apps/v1', 'Deployment', 'priv')).toBeUndefined();
    expect((await call('opsadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve' })).status).toBe(200);
    await until('tenant', id, (t) => t.status === 'completed');
    expect((await read('apps/v1', 'Deployment', 'priv'))?.spec.template.spec.containers[0].securityContext).toEqual({ privileged: true });
  });

  it('a failure after apply compensates: every object the ticket created is deleted, nothing recorded', async () => {
    await worker.stop();
    worker = await startWorker({ EDGEPORT_FAILPOINTS: FAILPOINTS.workerFailWorkloadRollout });
    const sub = await deploy('tenant', {
      ...app('doomed', { volumeMounts: [{ volume: 'doomed-data', mountPath: '/data' }] }),
      strategy: 'Recreate',
      service: { type: 'NodePort', port: 80 },
      configMaps: [{ name: 'doomed-config', data: { a: 'b' } }],
      volumes: [{ name: 'doomed-data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    const pending = await until('vdcadmin', id, (t) => t.status === 'pending_approval');
    expect((await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(200);
    const done = await until('tenant', id, (t) => t.status === 'compensated');
    expect(done.error).toBe('step rollout failed: failpoint worker-fail-workload-rollout armed');
    for (const [apiVersion, kind, name] of [
      ['apps/v1', 'Deployment', 'doomed'],
      ['v1', 'Service', 'doomed'],
      ['v1', 'ConfigMap', 'doomed-config'],
      ['v1', 'PersistentVolumeClaim', 'doomed-data'],
    ] as const) {
      expect(await read(apiVersion, kind, name), `${kind}/${name}`).toBeUndefined();
    }
    expect((await kube.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=doomed' })).items).toEqual([]);
    expect(await store.workloads.get(namespace, 'doomed')).toBeNull();
    // The armed worker is the last one this file needs; afterAll stops it.
  }, 300_000);
});
