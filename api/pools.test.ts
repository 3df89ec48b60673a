import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeView, PoolOverview, PoolView } from '../common/pools.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { EDGE_NODES, WORKER_USER } from '../stack/servers/kube/objects.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { POOLS_COLLECTION } from '../store/pools.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Resource pools over HTTP, with the api and worker as real processes against the real stack: the local
 * kube-apiserver registered again under fresh ids (by ServiceAccount token and by kubeconfig), refused and
 * unreachable registrations, the overview and node view read through the pool's own credentials, cordon
 * visible on the apiserver, and credentials that never reach MongoDB, Temporal histories or logs in clear.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const adminKc = new KubeConfig();
adminKc.loadFromFile(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const adminCore = adminKc.makeApiClient(CoreV1Api);
const rbac = adminKc.makeApiClient(RbacAuthorizationV1Api);
const cluster = adminKc.getCurrentCluster()!;
const server = cluster.server;
const caData = cluster.caData!;
const SA_NAMESPACE = 'default';
const saName = uniqueName('pool-sa');

let store: Store;
let temporal: Client;
let api: AppProcess;
let worker: AppProcess;
let saToken: string;
const { call, login } = testHttp();
const created: string[] = [];
const timings: Record<string, number> = {};

const register = async (id: string, auth: Record<string, unknown>, srv = server) => {
  created.push(id);
  return call('opsadmin', 'POST', '/api/pools', { id, name: `Test ${id}`, server: srv, auth });
};

const poolCount = () => store.testing.collection(POOLS_COLLECTION).countDocuments();

/** Every string and byte payload of a workflow history, decoded, so a secret can be searched for. */
function historyText(node: unknown, out: string[] = []): string[] {
  if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const n of node) historyText(n, out);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) historyText(v, out);
  return out;
}

async function workflowIdsOf(poolId: string, purpose: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const ids: string[] = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowType = 'registerPoolWorkflow'` }))
      if (w.workflowId.startsWith(`pool-${poolId}-${purpose}-`)) ids.push(w.workflowId);
    if (ids.length > 0) return ids;
    await new Promise((r) => setTimeout(r, 200));
  }
  return [];
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  // A ServiceAccount with the worker's ClusterRole: what an operator registering a cluster by token would create.
  await adminCore.createNamespacedServiceAccount({ namespace: SA_NAMESPACE, body: { metadata: { name: saName } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: saName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKER_USER },
      subjects: [{ kind: 'ServiceAccount', name: saName, namespace: SA_NAMESPACE }],
    },
  });
  const tr = await adminCore.createNamespacedServiceAccountToken({
    name: saName,
    namespace: SA_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  saToken = tr.status!.token;
  const p = { api: startApp(repoDir, 'api', env), worker: startApp(repoDir, 'worker', env) };
  [api, worker] = [p.api, p.worker];
  await Promise.all([waitForApi(api, base), waitForWorker(worker)]);
  await login('opsadmin', 'tenant', 'finance');
}, 180_000);

afterAll(async () => {
  await Promise.all(EDGE_NODES.map((n) => adminCore.patchNode({ name: n.name, body: [{ op: 'remove', path: '/spec/unschedulable' }] }).catch(() => undefined)));
  await store?.testing.collection(POOLS_COLLECTION).deleteMany({ _id: { $in: created as never[] } });
  await rbac.deleteClusterRoleBinding({ name: saName }).catch(() => undefined);
  await adminCore.deleteNamespacedServiceAccount({ name: saName, namespace: SA_NAMESPACE }).catch(() => undefined);
  await Promise.all([api?.stop(), worker?.stop()]);
  await temporal?.connection.close();
  await store?.close();
  console.log(`pool timings (ms): ${JSON.stringify(timings)}`);
});

describe('resource pools over HTTP', () => {
  const tokenPool = uniqueName('tok');
  const kubeconfigPool = uniqueName('kcfg');

  it('registers the local cluster by ServiceAccount token: ready with its version, credentials sealed everywhere', async () => {
    const r = await register(tokenPool, { type: 'token', token: saToken, caData });
    timings.registerToken = r.ms;
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: tokenPool, status: 'ready', authType: 'token', server, version: { gitVersion: expect.stringMatching(/^v1\./) } });
    expect(r.body.reason).toBeUndefined();
    timings.checkInWorker = r.body.checkMs;
    expect(JSON.stringify(r.body)).not.toContain(saToken);

    // MongoDB: the raw document holds a sealed record, not the token (nor its signature part).
    const raw = await store.testing.collection(POOLS_COLLECTION).findOne({ _id: tokenPool as never });
    const rawText = JSON.stringify(raw);
    expect(raw?.credentials).toMatchObject({ v: 1, alg: 'aes-256-gcm', kid: expect.any(String), iv: expect.any(String), tag: expect.any(String) });
    expect(rawText).not.toContain(saToken);
    expect(rawText).not.toContain(saToken.split('.')[2]!);

    // Temporal: the registration workflow's whole history carries the pool id only.
    const ids = await workflowIdsOf(tokenPool, 'register');
    expect(ids).toHaveLength(1);
    const history = historyText(await temporal.workflow.getHandle(ids[0]!).fetchHistory()).join('\n');
    expect(history).toContain(tokenPool);
    expect(history).not.toContain(saToken.split('.')[2]!);

    // Audit: recorded, without the credentials.
    const entry = await store.testing.collection('audit_entries').findOne({ action: 'pool.register', target: `pool:${tokenPool}` });
    expect(entry).toMatchObject({ outcome: 'success', actor: { sub: 'u-opsadmin' }, details: { authType: 'token', status: 'ready' } });
    expect(JSON.stringify(entry)).not.toContain(saToken);

    const list = await call('opsadmin', 'GET', '/api/pools');
    expect(list.body.items.map((p: PoolView) => p.id)).toEqual(expect.arrayContaining([tokenPool, 'local']));
    expect(list.body.items.find((p: PoolView) => p.id === 'local')).toMatchObject({ status: 'ready', authType: 'kubeconfig' });
  });

  it('registers by kubeconfig (the worker identity), keeping only sealed embedded credentials', async () => {
    const yaml = readFileSync(stackEnv('EDGEPORT_KUBECONFIG'), 'utf8');
    const r = await register(kubeconfigPool, { type: 'kubeconfig', kubeconfig: yaml });
    timings.registerKubeconfig = r.ms;
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: kubeconfigPool, status: 'ready', authType: 'kubeconfig' });
    const workerKc = new KubeConfig();
    workerKc.loadFromString(yaml);
    const { certData, keyData } = workerKc.getCurrentUser() as { certData: string; keyData: string };
    const keyPem = Buffer.from(keyData, 'base64').toString('utf8').split('\n')[1]!;
    expect(keyPem.length).toBeGreaterThan(40);
    const rawText = JSON.stringify(await store.testing.collection(POOLS_COLLECTION).findOne({ _id: kubeconfigPool as never }));
    expect(rawText).not.toContain(keyData.slice(0, 40));
    expect(rawText).not.toContain(keyPem);
    expect(rawText).not.toContain('client-key-data');

    // The same identity given as client certificate + key + CA.
    const cert = await register(uniqueName('cert'), {
      type: 'client-cert',
      certData,
      keyData,
      caData,
    });
    expect(cert.status).toBe(201);
    expect(cert.body).toMatchObject({ status: 'ready', authType: 'client-cert' });
  });

  it('records a wrong token as refused with a clear reason, and an unreachable server as unreachable', async () => {
    const wrong = await register(uniqueName('bad'), { type: 'token', token: 'not-a-valid-token', caData });
    expect(wrong.status).toBe(201);
    expect(wrong.body).toMatchObject({ status: 'refused', reason: expect.stringMatching(/refused the credentials \(401 Unauthorized\)/) });

    const t0 = performance.now();
    const down = await register(uniqueName('down'), { type: 'token', token: saToken, caData }, 'https://127.0.0.1:1');
    timings.registerUnreachable = Math.round(performance.now() - t0);
    expect(down.status).toBe(201);
    expect(down.body).toMatchObject({ status: 'unreachable', reason: expect.stringMatching(/cannot reach https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/) });

    // Reads through refused credentials fail as a bad gateway naming the cause.
    const overview = await call('opsadmin', 'GET', `/api/pools/${wrong.body.id}`);
    expect(overview.status).toBe(502);
    expect(overview.body.detail).toMatch(/refused the credentials \(401 Unauthorized\)/);
    const unreachable = await call('opsadmin', 'GET', `/api/pools/${down.body.id}/nodes`);
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.detail).toMatch(/ECONNREFUSED/);
  });

  it.each([
    ['an id that is not a DNS label', { id: 'Bad_Id' }, 'id'],
    ['a plain-http server', { server: 'http://127.0.0.1:6443' }, 'server'],
    ['a server with credentials in the URL', { server: 'https://u:p@127.0.0.1:6443' }, 'server'],
    ['an unknown auth type', { auth: { type: 'password', password: 'x' } }, 'auth.type'],
    ['a CA that is not base64 PEM', { auth: { type: 'token', token: 't', caData: 'bm90IGEgY2VydA==' } }, 'auth.caData'],
    ['a token with spaces', { auth: { type: 'token', token: 'a b', caData } }, 'auth.token'],
    ['an unknown field', { extra: 1 }, 'extra'],
    [
      'a kubeconfig with an exec plugin',
      {
        auth: {
          type: 'kubeconfig',
          kubeconfig:
            'current-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {exec: {command: sh}}}]\n',
        },
      },
      'auth.kubeconfig',
    ],
    ['a kubeconfig over 64 KiB', { auth: { type: 'kubeconfig', kubeconfig: `# ${'x'.repeat(70_000)}` } }, 'auth.kubeconfig'],
    ['a kubeconfig for another server', { server: 'https://127.0.0.2:6443', auth: { type: 'kubeconfig', kubeconfig: 'KCFG' } }, 'server'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_what, patch, field) => {
    const before = await poolCount();
    const body: Record<string, unknown> = { id: uniqueName('inv'), name: 'Invalid', server, auth: { type: 'token', token: saToken, caData }, ...patch };
    const auth = body.auth as { kubeconfig?: string };
    if (auth.kubeconfig === 'KCFG') auth.kubeconfig = readFileSync(stackEnv('EDGEPORT_KUBECONFIG'), 'utf8');
    const r = await call('opsadmin', 'POST', '/api/pools', body);
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(JSON.stringify(r.body)).not.toContain(saToken);
    expect(await poolCount()).toBe(before);
  });

  it('refuses a second registration under a taken id with 409', async () => {
    const r = await call('opsadmin', 'POST', '/api/pools', { id: tokenPool, name: 'again', server, auth: { type: 'token', token: saToken, caData } });
    expect(r.status).toBe(409);
  });

  it('overview counts the kwok nodes Ready and sums their capacity, read through the pool credentials', async () => {
    const r = await call('opsadmin', 'GET', `/api/pools/${tokenPool}`);
    timings.overview = r.ms;
    expect(r.status).toBe(200);
    const o = r.body as PoolOverview;
    const nodes = (await adminCore.listNode()).items;
    const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ready.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(EDGE_NODES.map((n) => n.name)));
    expect(o.nodes).toMatchObject({ total: nodes.length, Ready: ready.length, NotReady: 0 });
    expect(o.nodes.Ready).toBeGreaterThanOrEqual(2);
    const cpu = nodes.reduce((s, n) => s + Number(n.status?.capacity?.cpu ?? 0), 0);
    expect(o.resources.cpu.capacity).toBe(cpu);
    expect(o.resources.memoryGi.allocatable).toBeGreaterThan(0);
    expect(o.resources.storageGi.capacity).toBeGreaterThan(0);
    expect(o.resources.pods.requested).toBeGreaterThanOrEqual(0);
    expect(o.components.find((c) => c.name === 'apiserver')).toMatchObject({ status: 'healthy', failedChecks: [] });
    expect(o.components.map((c) => c.name).sort()).toEqual(['apiserver', 'controller-manager', 'scheduler']);
    expect(o.pool).toMatchObject({ id: tokenPool, status: 'ready' });

    const again = await call('opsadmin', 'GET', `/api/pools/${tokenPool}`);
    timings.overviewWarm = again.ms;
  });

  it('cordon makes the node unschedulable on the apiserver (edgeport field manager), uncordon reverts it; both audited', async () => {
    const node = EDGE_NODES[1].name;
    const before = await call('opsadmin', 'GET', `/api/pools/${tokenPool}/nodes`);
    timings.nodes = before.ms;
    expect(before.status).toBe(200);
    for (const n of EDGE_NODES) {
      expect(before.body.items.find((v: NodeView) => v.name === n.name)).toMatchObject({
        status: 'Ready',
        schedulable: true,
        architecture: n.arch,
        labels: expect.objectContaining({ 'kubernetes.io/arch': n.arch }),
        pods: expect.any(Number),
      });
    }

    const cordon = await call('opsadmin', 'POST', `/api/pools/${tokenPool}/nodes/${node}/cordon`);
    timings.cordon = cordon.ms;
    expect(cordon.status).toBe(200);
    expect(cordon.body).toMatchObject({ name: node, schedulable: false });
    const onServer = await adminCore.readNode({ name: node });
    expect(onServer.spec?.unschedulable).toBe(true);
    expect(onServer.metadata?.managedFields?.some((m) => m.manager === 'edgeport' && JSON.stringify(m.fieldsV1).includes('f:unschedulable'))).toBe(true);
    const view = await call('opsadmin', 'GET', `/api/pools/${tokenPool}/nodes`);
    expect(view.body.items.find((v: NodeView) => v.name === node)).toMatchObject({ schedulable: false });
    expect((await call('opsadmin', 'GET', `/api/pools/${tokenPool}`)).body.nodes.unschedulable).toBe(1);

    const uncordon = await call('opsadmin', 'POST', `/api/pools/${tokenPool}/nodes/${node}/uncordon`);
    expect(uncordon.status).toBe(200);
    expect(uncordon.body).toMatchObject({ name: node, schedulable: true });
    expect((await adminCore.readNode({ name: node })).spec?.unschedulable).toBeFalsy();

    const audited = await store.testing
      .collection('audit_entries')
      .find({ target: `pool:${tokenPool}/node:${node}` })
      .sort({ seq: 1 })
      .toArray();
    expect(audited.map((e) => [e.action, e.outcome])).toEqual([
      ['node.cordon', 'success'],
      ['node.uncordon', 'success'],
    ]);
    expect((await call('opsadmin', 'POST', `/api/pools/${tokenPool}/nodes/no-such-node/cordon`)).status).toBe(404);
  });

  it('keeps pools to platform operators: 403 for tenants and finance, 404 for unknown pools', async () => {
    for (const user of ['tenant', 'finance']) {
      expect((await call(user, 'GET', '/api/pools')).status).toBe(403);
      expect((await call(user, 'GET', `/api/pools/${tokenPool}`)).status).toBe(403);
      expect((await call(user, 'GET', `/api/pools/${tokenPool}/nodes`)).status).toBe(403);
      expect((await call(user, 'POST', '/api/pools', { id: uniqueName('x'), name: 'x', server, auth: { type: 'token', token: 't', caData } })).status).toBe(
        403,
      );
      expect((await call(user, 'POST', `/api/pools/${tokenPool}/nodes/${EDGE_NODES[0].name}/cordon`)).status).toBe(403);
      expect((await call(user, 'DELETE', `/api/pools/${tokenPool}`)).status).toBe(403);
    }
    expect((await adminCore.readNode({ name: EDGE_NODES[0].name })).spec?.unschedulable).toBeFalsy();
    expect((await call('anonymous', 'GET', '/api/pools')).status).toBe(401);
    expect((await call('opsadmin', 'GET', '/api/pools/no-such-pool')).status).toBe(404);
    expect((await call('opsadmin', 'GET', '/api/pools/NOT_A_LABEL/nodes')).status).toBe(404);
  });

  it('deletes an unused pool, and refuses (409) to delete one VDCs live in', async () => {
    const inUse = await call('opsadmin', 'DELETE', '/api/pools/local');
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toMatch(/VDCs still use it: .*demo/);
    expect((await call('opsadmin', 'GET', '/api/pools')).body.items.map((p: PoolView) => p.id)).toContain('local');

    expect((await call('opsadmin', 'DELETE', `/api/pools/${kubeconfigPool}`)).status).toBe(204);
    expect((await call('opsadmin', 'GET', `/api/pools/${kubeconfigPool}`)).status).toBe(404);
    expect((await call('opsadmin', 'DELETE', `/api/pools/${kubeconfigPool}`)).status).toBe(404);
  });

  it('never logs the credentials', () => {
    expect(api.output()).not.toContain(saToken);
    expect(worker.output()).not.toContain(saToken);
  });
});
