import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { TicketView } from '../common/tickets.ts';
import type { WorkloadPreview } from '../common/workload.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { CONFIG_ITEMS_COLLECTION } from '../store/config-items.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * The config center over HTTP (api and worker as real processes, real kube-apiserver, Temporal, MongoDB):
 * ConfigMaps and Secrets applied with server-side apply, a workload using a Secret as env and as a mounted
 * file, and the Secret's value nowhere but on the kube-apiserver.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('cfgc');
const otherVdc = uniqueName('cfgx');
const namespace = namespaceOf(vdcId);

type View = TicketView & { preview?: WorkloadPreview };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
let temporal: Client;
const { call, login, untilTicket } = testHttp();

const until = (id: string, pred: (t: View) => boolean): Promise<View> => untilTicket('tenant', id, pred, { timeout: 120_000 });

const read = (kind: string, name: string, apiVersion = 'v1'): Promise<any> =>
  kube.objects.read({ apiVersion, kind, metadata: { name, namespace } }).then(
    (o) => o,
    () => undefined,
  );

/** Every string and byte payload of a workflow history, decoded (payload data are bytes of JSON). */
function historyText(node: unknown, out: string[] = []): string[] {
  if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const n of node) historyText(n, out);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) historyText(v, out);
  return out;
}

const app = (name: string, container: Record<string, unknown>) => ({
  kind: 'Deployment',
  name,
  replicas: 1,
  containers: [
    { name: 'app', image: `registry.invalid/${name}:1`, requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' }, ...container },
  ],
});

/** A self-signed certificate and its key, and a second key that does not match (openssl, in a temp dir). */
function tlsMaterial(): { cert: string; key: string; otherKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cfgc-tls-'));
  try {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
      '-days',
      '1',
      '-subj',
      '/CN=shop.example.com',
    );
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k2.pem');
    return {
      cert: readFileSync(join(dir, 'c.pem'), 'utf8'),
      key: readFileSync(join(dir, 'k.pem'), 'utf8'),
      otherKey: readFileSync(join(dir, 'k2.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Config center VDC', domainId: 'cfgc-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await seedVdc(store, kube, { id: otherVdc, name: 'Other VDC', domainId: 'cfgc-domain', quota: { cpu: 1, memoryGi: 1, pods: 2 } });
  for (const [username, role] of [
    ['tenant', 'vdc-user'],
    ['vdcadmin', 'vdc-admin'],
  ] as const) {
    await grant(store, demoUserByUsername(username)!, [{ role, scope: { type: 'vdc', vdcId } }]);
  }
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  api = startApp(repoDir, 'api', { ...env, EDGEPORT_RECONCILE_SECONDS: '1' });
  worker = startApp(repoDir, 'worker', env);
  // Generous start-up: the api and the worker (webpack bundle) start together on a shared, busy machine.
  await Promise.all([waitForWorker(worker, 240_000), waitForApi(api, base, 240_000)]);
  await login('tenant', 'vdcadmin');
}, 300_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await temporal?.connection.close();
  await store?.close();
});

describe('config center over HTTP', () => {
  it('a Secret used as env and as a mounted file reaches the Deployment, and its value appears nowhere but on the kube-apiserver', async () => {
    const value = `pw-${randomBytes(16).toString('hex')}`;
    const b64 = Buffer.from(value).toString('base64');
    const sec = await call('tenant', 'POST', `/api/vdcs/${vdcId}/secrets`, { type: 'opaque', name: 'db-cred', entries: [{ key: 'password', value }] });
    expect(sec.status, sec.text).toBe(201);
    expect(sec.body).toMatchObject({
      kind: 'Secret',
      name: 'db-cred',
      namespace,
      type: 'opaque',
      keys: [{ key: 'password', size: value.length }],
      updatedBy: { sub: 'u-tenant' },
    });
    const binary = Buffer.from([0, 159, 146, 150, 255]).toString('base64');
    const cm = await call('tenant', 'POST', `/api/vdcs/${vdcId}/configmaps`, {
      name: 'app-conf',
      entries: [
        { key: 'app.properties', value: 'mode=prod\n' },
        { key: 'logo.bin', value: binary, base64: true },
      ],
    });
    expect(cm.status, cm.text).toBe(201);
    expect(cm.body.keys).toEqual([
      { key: 'app.properties', size: 10, value: 'mode=prod\n' },
      { key: 'logo.bin', size: 5, binary: true },
    ]);

    // On the kube-apiserver, applied by Edgeport's field manager: that is where the value belongs.
    const live = await read('Secret', 'db-cred');
    expect(live?.data).toEqual({ password: b64 });
    expect(live?.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === 'edgeport' && f.operation === 'Apply')).toBe(true);
    expect(live?.metadata.labels).toMatchObject({ 'edgeport.io/config-center': 'true', 'edgeport.io/vdc': vdcId });
    expect((await read('ConfigMap', 'app-conf'))?.binaryData).toEqual({ 'logo.bin': binary });

    const list = await call('tenant', 'GET', `/api/vdcs/${vdcId}/secrets`);
    expect(list.body.items.map((i: { name: string }) => i.name)).toEqual(['db-cred']);
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}/secrets/db-cred`)).body.keys).toEqual([{ key: 'password', size: value.length }]);

    const sub = await call('tenant', 'POST', '/api/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: app('cfgapp', {
        env: [{ name: 'DB_PASSWORD', secretRef: { name: 'db-cred', key: 'password' } }],
        configMounts: [
          { secret: 'db-cred', mountPath: '/etc/db' },
          { configMap: 'app-conf', key: 'app.properties', mountPath: '/etc/app/app.properties' },
        ],
      }),
    });
    expect(sub.status, sub.text).toBe(201);
    const id = sub.body.id as string;
    const pending = await until(id, (t) => t.status === 'pending_approval');
    expect(pending.preview?.errors).toEqual([]);
    expect((await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(200);
    await until(id, (t) => t.status === 'completed');

    const pod = (await read('Deployment', 'cfgapp', 'apps/v1'))?.spec.template.spec;
    const [secretVol, cmVol] = [pod.volumes.find((v: any) => v.secret), pod.volumes.find((v: any) => v.configMap)];
    expect(secretVol.secret.secretName).toBe('db-cred');
    expect(cmVol.configMap.name).toBe('app-conf');
    expect(pod.containers[0].env).toEqual([{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-cred', key: 'password' } } }]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: secretVol.name, mountPath: '/etc/db', readOnly: true },
      { name: cmVol.name, mountPath: '/etc/app/app.properties', readOnly: true, subPath: 'app.properties' },
    ]);

    // In use: delete refused naming the workload.
    const del = await call('tenant', 'DELETE', `/api/vdcs/${vdcId}/secrets/db-cred`);
    expect(del.status).toBe(409);
    expect(del.body.detail).toContain('cfgapp');

    // Nowhere else: ticket, timeline, workflow histories, MongoDB, audit, process output.
    const places: Record<string, string> = {
      ticket: (await call('tenant', 'GET', `/api/tickets/${id}`)).text,
      timeline: (await call('tenant', 'GET', `/api/tickets/${id}/timeline`)).text,
      ticketDoc: JSON.stringify(await store.testing.collection('tickets').findOne({ _id: id as never })),
      configDoc: JSON.stringify(await store.testing.collection(CONFIG_ITEMS_COLLECTION).findOne({ _id: `${namespace}/Secret/db-cred` as never })),
      audit: JSON.stringify(
        await store.testing
          .collection(AUDIT_COLLECTION)
          .find({ target: { $regex: `^vdc:${vdcId}/` } })
          .toArray(),
      ),
    };
    const ticketHistory = await temporal.workflow.getHandle(id).fetchHistory();
    places.ticketHistory = `${JSON.stringify(ticketHistory)}\n${historyText(ticketHistory).join('\n')}`;
    const applies: string[] = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowType = 'applyConfigItemWorkflow'` }))
      if (w.workflowId.startsWith(`config-apply-${namespace}-secret-db-cred-`)) applies.push(w.workflowId);
    expect(applies).toHaveLength(1);
    const applyHistory = await temporal.workflow.getHandle(applies[0]!).fetchHistory();
    places.applyHistory = `${JSON.stringify(applyHistory)}\n${historyText(applyHistory).join('\n')}`;
    expect(places.applyHistory).toContain(`${namespace}/Secret/db-cred`);
    expect(places.audit).toContain('config.create');
    expect(JSON.parse(places.configDoc ?? '{}').sealed).toMatchObject({ v: 1, alg: 'aes-256-gcm' });
    places.api = api.output();
    places.worker = worker.output();
    for (const [where, text] of Object.entries(places)) {
      expect(text.includes(value), `${where} contains the Secret value`).toBe(false);
      expect(text.includes(b64), `${where} contains the Secret value (base64)`).toBe(false);
    }
  }, 300_000);

  it('preflight refuses a workload whose Secret key or ConfigMap does not exist, naming the field', async () => {
    const sub = await call('tenant', 'POST', '/api/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: app('cfgbad', {
        env: [{ name: 'X', secretRef: { name: 'db-cred', key: 'nope' } }],
        configMounts: [{ configMap: 'no-such-config', mountPath: '/etc/x' }],
      }),
    });
    expect(sub.status).toBe(201);
    const done = await until(sub.body.id as string, (t) => t.status === 'failed');
    expect(done.error ?? '').toContain('containers[0].env[0].secretRef: Secret db-cred has no key nope');
    expect(done.error ?? '').toContain('containers[0].configMounts[0].configMap: ConfigMap no-such-config does not exist');
  }, 180_000);

  it('TLS pairs are checked, a refused replace leaves the stored and the live object as they were, another VDC is 404', async () => {
    const tls = tlsMaterial();
    const mismatch = await call('tenant', 'POST', `/api/vdcs/${vdcId}/secrets`, { type: 'tls', name: 'shop-tls', tls: { cert: tls.cert, key: tls.otherKey } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors).toEqual([{ field: 'tls.key', message: 'does not match the certificate in tls.cert' }]);
    expect(
      (await call('tenant', 'POST', `/api/vdcs/${vdcId}/secrets`, { type: 'tls', name: 'shop-tls', tls: { cert: 'hello', key: tls.key } })).body.errors[0]
        .field,
    ).toBe('tls.cert');
    const ok = await call('tenant', 'POST', `/api/vdcs/${vdcId}/secrets`, { type: 'tls', name: 'shop-tls', tls: { cert: tls.cert, key: tls.key } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.keys.map((k: { key: string }) => k.key)).toEqual(['tls.crt', 'tls.key']);
    expect((await read('Secret', 'shop-tls'))?.type).toBe('kubernetes.io/tls');
    expect(JSON.stringify(ok.body)).not.toContain('PRIVATE KEY');

    // An object of that name the config center does not own is not taken over; nothing is stored.
    await kube.objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'foreign', namespace }, data: { a: 'b' } } as never);
    const foreign = await call('tenant', 'POST', `/api/vdcs/${vdcId}/configmaps`, { name: 'foreign', entries: [{ key: 'a', value: 'c' }] });
    expect(foreign.status).toBe(422);
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}/configmaps/foreign`)).status).toBe(404);
    expect((await read('ConfigMap', 'foreign'))?.data).toEqual({ a: 'b' });

    // Replace, then make the live Secret immutable (another manager): the next replace is refused and rolled back.
    const put = await call('tenant', 'PUT', `/api/vdcs/${vdcId}/secrets/db-cred`, {
      type: 'opaque',
      entries: [
        { key: 'password', value: 'v2' },
        { key: 'user', value: 'app' },
      ],
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.keys.map((k: { key: string }) => k.key)).toEqual(['password', 'user']);
    expect((await read('Secret', 'db-cred'))?.data).toEqual({ password: Buffer.from('v2').toString('base64'), user: Buffer.from('app').toString('base64') });
    await kube.objects.patch(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-cred', namespace }, immutable: true } as never,
      undefined,
      undefined,
      'someone-else',
      true,
      PatchStrategy.ServerSideApply,
    );
    const refused = await call('tenant', 'PUT', `/api/vdcs/${vdcId}/secrets/db-cred`, { type: 'opaque', entries: [{ key: 'password', value: 'v3' }] });
    expect(refused.status, refused.text).toBe(422);
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}/secrets/db-cred`)).body.keys.map((k: { key: string }) => k.key)).toEqual(['password', 'user']);
    expect((await read('Secret', 'db-cred'))?.data.password).toBe(Buffer.from('v2').toString('base64'));
    const audit = await store.testing
      .collection(AUDIT_COLLECTION)
      .findOne({ action: 'config.replace', target: `vdc:${vdcId}/${namespace}/secret:db-cred`, outcome: 'failure' });
    expect(audit?.details).toMatchObject({ keys: ['password'] });
    expect(JSON.stringify(audit)).not.toContain('v3');

    // A type change is refused before anything is stored; an unused ConfigMap is deleted from the cluster.
    expect(
      (await call('tenant', 'PUT', `/api/vdcs/${vdcId}/secrets/shop-tls`, { type: 'opaque', entries: [{ key: 'a', value: 'b' }] })).body.errors[0].field,
    ).toBe('type');
    const cmDel = await call('vdcadmin', 'POST', `/api/vdcs/${vdcId}/configmaps`, { name: 'scratch', entries: [{ key: 'k', value: 'v' }] });
    expect(cmDel.status).toBe(201);
    expect((await call('vdcadmin', 'DELETE', `/api/vdcs/${vdcId}/configmaps/scratch`)).status).toBe(204);
    expect(await read('ConfigMap', 'scratch')).toBeUndefined();

    // Another VDC's config: 404, not 403.
    expect((await call('tenant', 'GET', `/api/vdcs/${otherVdc}/secrets`)).status).toBe(404);
    expect((await call('tenant', 'POST', `/api/vdcs/${otherVdc}/configmaps`, { name: 'x', entries: [{ key: 'a', value: 'b' }] })).status).toBe(404);
  }, 240_000);
});
