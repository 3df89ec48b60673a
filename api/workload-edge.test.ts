import { type V1Deployment, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { createRegistryRuntime } from '../infra/registry/runtime.ts';
import { NODE_JOIN_LABELS } from '../common/node-join-workflow.ts';
import type { TicketView } from '../common/tickets.ts';
import type { VdcPoolNodesView, WorkloadDetail, WorkloadSummary } from '../common/workload-ops.ts';
import type { WorkloadPreview } from '../common/workload.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { EDGE1_POOL, grant, LOCAL_POOL } from '../stack/seed.ts';
import { KWOK_NODE_ANNOTATION } from '../stack/servers/kube/kwok-config.ts';
import { KUBE_CLUSTERS } from '../stack/servers/kube/layout.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { buildImage, pushImage } from '../stack/testing/oci-image.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';

/**
 * Workloads on edge nodes, over HTTP with the api and worker as real processes against both of the stack's
 * clusters: a VDC created on `local` and `edge-1` deploys to `edge-1`, pinned to a tainted arm64 edge node
 * joined for it (a Node registered here with admin credentials, kept Ready by kwok) and tolerating its taint;
 * the real kube-scheduler places the pods. Without the toleration the node is not a target; an amd64-only
 * image aimed at arm64 nodes is refused (at submit when pinned, at preflight otherwise); a pool outside the
 * VDC is a 422 naming the pool; reads and day-2 operations find the workload on its pool.
 */
const repoDir = new URL('..', import.meta.url).pathname;
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const registryPort = new URL(stackEnv('EDGEPORT_REGISTRY_URL')).port;
const edge = createKubeClients(stackEnv('EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('edw');
const domainId = uniqueName('edwd');
const edgeNs = `vdc-${vdcId}-${EDGE1_POOL}`;
const nodeName = uniqueName('edge-dedicated');
const taint = { key: 'edgeport.io/dedicated', value: vdcId, effect: 'NoSchedule' } as const;
const quota = { cpu: 4, memoryGi: 8, pods: 20 };
const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const cookies: Record<string, string> = {};

async function call<T = any>(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { cookie: cookies[user] ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    last = v;
    await new Promise((r) => setTimeout(r, 400));
  }
  throw new Error(`${what}: not reached (${JSON.stringify(last)})`);
}

const ticket = (id: string) => call<TicketView>('tenant', 'GET', `/tickets/${id}`).then((r) => r.body);
const settledPreflight = (id: string) => eventually(`preflight of ${id}`, async () => ((t) => (t.status === 'submitted' ? undefined : t))(await ticket(id)));

/** Submits a deploy as the tenant; returns the response. */
const deploy = (workload: Record<string, unknown>) =>
  call<TicketView & { errors?: { field: string; message: string }[] }>('tenant', 'POST', '/tickets', { type: 'workload-deploy', vdcId, workload });

/** Submits, waits for the preflight, has the VDC admin approve, and waits until the ticket is done. */
async function deployApproved(workload: Record<string, unknown>): Promise<TicketView> {
  const sub = await deploy(workload);
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);
  const pending = await settledPreflight(sub.body.id);
  expect(pending.status, `${pending.error ?? ''} ${JSON.stringify(pending.preview)}`).toBe('pending_approval');
  const decided = await call('vdcadmin', 'POST', `/tickets/${sub.body.id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash });
  expect(decided.status, JSON.stringify(decided.body)).toBe(200);
  const done = await eventually(
    `rollout of ${String(workload.name)}`,
    async () => ((t) => (['completed', 'failed', 'compensated'].includes(t.status) ? t : undefined))(await ticket(sub.body.id)),
    180_000,
  );
  expect(done.status, done.error).toBe('completed');
  return done;
}

const podsOf = async (name: string): Promise<V1Pod[]> =>
  (await edge.core.listNamespacedPod({ namespace: edgeNs, labelSelector: `app.kubernetes.io/name=${name}` })).items;

beforeAll(async () => {
  const env = appEnvFromProcess();
  [worker, api] = await Promise.all([
    (async () => {
      const p = startApp(repoDir, 'worker', env);
      await waitForWorker(p, 300_000);
      return p;
    })(),
    (async () => {
      const p = startApp(repoDir, 'api', env);
      await waitForApi(p, base, 300_000);
      return p;
    })(),
  ]);
  for (const u of ['tenant', 'vdcadmin', 'other', 'opsadmin']) cookies[u] = await loginAs(base, u, demoUserByUsername(u)!.password);

  // The VDC as an administrator makes it: on `local` (primary) and `edge-1`, provisioned by its workflow.
  expect((await call('opsadmin', 'POST', '/domains', { id: domainId, name: 'Edge workloads' })).status).toBe(201);
  const created = await call('opsadmin', 'POST', `/domains/${domainId}/vdcs`, {
    id: vdcId,
    name: 'Edge VDC',
    pools: [
      { pool: LOCAL_POOL, quota },
      { pool: EDGE1_POOL, quota },
    ],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await eventually('VDC provisioned', async () =>
    ((v) => (v.provisioning?.state === 'ready' ? v : undefined))((await call('opsadmin', 'GET', `/vdcs/${vdcId}`)).body),
  );
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);

  // An arm64 edge node joined for the VDC on edge-1, tainted as a join applies it (registered with admin credentials; the token join is tested apart).
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/arch': 'arm64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': nodeName,
        type: 'kwok',
        [NODE_JOIN_LABELS.vdc]: vdcId,
        [NODE_JOIN_LABELS.pool]: EDGE1_POOL,
        [NODE_JOIN_LABELS.ticket]: 'tkt-test',
        site: 'depot-7',
      },
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { taints: [taint] },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      nodeInfo: { architecture: 'arm64', operatingSystem: 'linux' } as never,
    },
  };
  await edge.core.createNode({ body: node });
  let seen: unknown;
  await eventually('edge node Ready with only its join taint', async () => {
    const n = await edge.core.readNode({ name: nodeName });
    seen = { conditions: n.status?.conditions?.map((c) => `${c.type}=${c.status}`), taints: n.spec?.taints };
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const taints = n.spec?.taints ?? [];
    return ready && taints.length === 1 && taints[0]?.key === taint.key ? n : undefined;
  }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; node: ${JSON.stringify(seen)}`);
  });
}, 600_000);

afterAll(async () => {
  await edge.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('workloads on edge nodes', () => {
  it('lists the VDC’s pools with its joined nodes, their architecture, labels and taints; outsiders get 404', async () => {
    const r = await call<{ items: VdcPoolNodesView[] }>('tenant', 'GET', `/vdcs/${vdcId}/edge-nodes`);
    expect(r.status).toBe(200);
    expect(r.body.items.map((p) => [p.pool, p.primary, p.namespace])).toEqual([
      [LOCAL_POOL, true, `vdc-${vdcId}`],
      [EDGE1_POOL, false, edgeNs],
    ]);
    const onEdge = r.body.items[1]!;
    expect(onEdge.architectures).toEqual(['arm64']);
    expect(onEdge.nodes).toEqual([
      expect.objectContaining({
        name: nodeName,
        architecture: 'arm64',
        labels: expect.objectContaining({ site: 'depot-7', [NODE_JOIN_LABELS.vdc]: vdcId }),
        taints: [taint],
      }),
    ]);
    // Nodes of the pool not joined for this VDC are not listed.
    expect(onEdge.nodes.map((n) => n.name)).not.toContain(KUBE_CLUSTERS['edge-1'].nodes[0]!.name);
    expect(r.body.items[0]!.nodes).toEqual([]);
    expect((await call('other', 'GET', `/vdcs/${vdcId}/edge-nodes`)).status).toBe(404);
  });

  it('a pool outside the VDC is a 422 naming the pool, for a deploy and for a rollback; nothing is stored', async () => {
    const r = await deploy({
      kind: 'Deployment',
      name: 'nowhere',
      pool: 'elsewhere',
      containers: [{ name: 'app', image: 'registry.invalid/edge/app:1', ...resources }],
    });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([
      { field: 'workload.pool', message: expect.stringContaining(`pool elsewhere is not one of this VDC's resource pools (${LOCAL_POOL}, ${EDGE1_POOL})`) },
    ]);
    const rb = await call<{ errors: { field: string }[] }>('tenant', 'POST', '/tickets', {
      type: 'workload-rollback',
      vdcId,
      name: 'nowhere',
      pool: 'elsewhere',
    });
    expect(rb.status).toBe(422);
    expect(rb.body.errors.map((e) => e.field)).toEqual(['pool']);
    const bad = await deploy({
      kind: 'Deployment',
      name: 'badtol',
      pool: EDGE1_POOL,
      containers: [{ name: 'app', image: 'registry.invalid/edge/app:1' }],
      tolerations: [{ key: taint.key, operator: 'Exists', value: 'x', effect: 'NoSchedule', tolerationSeconds: 5 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(['workload.tolerations[0].tolerationSeconds', 'workload.tolerations[0].value']);
  });

  it(
    'deploys to edge-1 pinned to the tainted node by hostname and labels, tolerating its taint: the scheduler places every pod there and kwok runs it; scale keeps and upgrade changes the placement',
    { timeout: 300_000 },
    async () => {
      const name = 'pinned';
      await deployApproved({
        kind: 'Deployment',
        name,
        pool: EDGE1_POOL,
        replicas: 2,
        containers: [{ name: 'app', image: 'registry.invalid/edge/app:1', ...resources }],
        nodeSelector: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': nodeName, [NODE_JOIN_LABELS.vdc]: vdcId, site: 'depot-7' },
        tolerations: [{ key: taint.key, operator: 'Equal', value: taint.value, effect: 'NoSchedule' }],
      });
      const dep = await edge.objects.read<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: edgeNs } });
      expect(dep.spec?.template.spec?.tolerations).toEqual([{ key: taint.key, operator: 'Equal', value: taint.value, effect: 'NoSchedule' }]);
      const pods = await eventually('pods Running on the edge node', async () =>
        ((ps) => (ps.length === 2 && ps.every((p) => p.status?.phase === 'Running') ? ps : undefined))(await podsOf(name)),
      );
      expect(pods.map((p) => p.spec?.nodeName)).toEqual([nodeName, nodeName]);

      // Reads find it on its pool; a day-2 scale keeps the placement (the new pod lands on the same node).
      const list = await call<{ items: WorkloadSummary[] }>('tenant', 'GET', `/vdcs/${vdcId}/workloads`);
      expect(list.body.items.find((w) => w.name === name)).toMatchObject({
        namespace: edgeNs,
        pool: EDGE1_POOL,
        status: 'available',
        replicas: { ready: 2, desired: 2 },
      });
      const detail = await call<WorkloadDetail>('tenant', 'GET', `/vdcs/${vdcId}/workloads/${edgeNs}/${name}`);
      expect(detail.status).toBe(200);
      expect(detail.body.pods).toHaveLength(2);
      expect(detail.body.scheduling).toMatchObject({
        pool: EDGE1_POOL,
        tolerations: [{ key: taint.key, value: taint.value }],
        nodeSelector: { 'kubernetes.io/hostname': nodeName },
      });
      const scaled = await call('tenant', 'POST', `/vdcs/${vdcId}/workloads/${edgeNs}/${name}/operations`, { operation: { op: 'scale', replicas: 3 } });
      expect(scaled.status, JSON.stringify(scaled.body)).toBe(200);
      const after = await eventually('three pods Running', async () =>
        ((ps) => (ps.length === 3 && ps.every((p) => p.status?.phase === 'Running') ? ps : undefined))(await podsOf(name)),
      );
      expect(new Set(after.map((p) => p.spec?.nodeName))).toEqual(new Set([nodeName]));

      // An upgrade changes the tolerations (Exists on the key instead of Equal on the value): the template follows.
      await deployApproved({
        kind: 'Deployment',
        name,
        pool: EDGE1_POOL,
        replicas: 3,
        containers: [{ name: 'app', image: 'registry.invalid/edge/app:2', ...resources }],
        nodeSelector: { 'kubernetes.io/hostname': nodeName },
        tolerations: [{ key: taint.key, operator: 'Exists', effect: 'NoSchedule' }],
      });
      const upgraded = await edge.objects.read<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: edgeNs } });
      expect(upgraded.spec?.template.spec?.tolerations).toEqual([{ key: taint.key, operator: 'Exists', effect: 'NoSchedule' }]);
      expect(upgraded.spec?.template.spec?.nodeSelector).toEqual({ 'kubernetes.io/hostname': nodeName });
      const rolled = await eventually('upgraded pods Running', async () =>
        ((ps) =>
          ps.length === 3 && ps.every((p) => p.status?.phase === 'Running' && p.spec?.containers[0]?.image === 'registry.invalid/edge/app:2') ? ps : undefined)(
          await podsOf(name),
        ),
      );
      expect(new Set(rolled.map((p) => p.spec?.nodeName))).toEqual(new Set([nodeName]));
    },
  );

  it(
    'without the toleration the tainted node is no target: pinned to it, the preflight refuses; by architecture only, the scheduler keeps off it',
    { timeout: 300_000 },
    async () => {
      const pinned = await deploy({
        kind: 'Deployment',
        name: 'untolerated',
        pool: EDGE1_POOL,
        containers: [{ name: 'app', image: 'registry.invalid/edge/app:1', ...resources }],
        nodeSelector: { 'kubernetes.io/hostname': nodeName },
      });
      expect(pinned.status, JSON.stringify(pinned.body)).toBe(201);
      const failed = await settledPreflight(pinned.body.id);
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain(`workload.nodeSelector: scheduling: no node of pool ${EDGE1_POOL} matches kubernetes.io/hostname=${nodeName}`);

      const name = 'spread';
      await deployApproved({
        kind: 'Deployment',
        name,
        pool: EDGE1_POOL,
        replicas: 4,
        containers: [{ name: 'app', image: 'registry.invalid/edge/app:1', ...resources }],
        nodeSelector: { 'kubernetes.io/arch': 'arm64' },
      });
      const pods = await eventually('pods Running', async () =>
        ((ps) => (ps.length === 4 && ps.every((p) => p.status?.phase === 'Running') ? ps : undefined))(await podsOf(name)),
      );
      const nodes = new Set(pods.map((p) => p.spec?.nodeName));
      expect(nodes.has(nodeName)).toBe(false);
      for (const n of nodes) expect(KUBE_CLUSTERS['edge-1'].nodes.map((x) => x.name)).toContain(n);
    },
  );

  it(
    'an amd64-only image aimed at arm64 nodes: 422 at submit when pinned to arm64, refused at preflight on the arm64 pool, naming the image field',
    { timeout: 300_000 },
    async () => {
      const rt = createRegistryRuntime({
        url: stackEnv('EDGEPORT_REGISTRY_URL'),
        tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
        tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
      });
      const DPKG = 'Package: openssl\nStatus: install ok installed\nVersion: 3.0.15-1~deb12u1\n';
      await pushImage(rt.driver, `vdc-${vdcId}/amdonly`, 'v1', buildImage({ archs: ['amd64'], layers: [{ 'var/lib/dpkg/status': DPKG }] }));
      await eventually('scan on push', async () =>
        (await call<{ scan?: unknown }>('tenant', 'GET', `/images/detail?repository=vdc-${vdcId}/amdonly&reference=v1`)).body?.scan ? true : undefined,
      );
      const image = `localhost:${registryPort}/vdc-${vdcId}/amdonly:v1`;

      const pinned = await deploy({
        kind: 'Deployment',
        name: 'amd-pinned',
        pool: EDGE1_POOL,
        containers: [{ name: 'app', image, ...resources }],
        nodeSelector: { 'kubernetes.io/arch': 'arm64' },
      });
      expect(pinned.status, JSON.stringify(pinned.body)).toBe(422);
      expect(pinned.body.errors).toEqual([
        { field: 'workload.containers[0].image', message: expect.stringMatching(/image rule image-arch: .*has no arm64 image \(it has amd64\)/) },
      ]);

      const unpinned = await deploy({ kind: 'Deployment', name: 'amd-edge', pool: EDGE1_POOL, containers: [{ name: 'app', image, ...resources }] });
      expect(unpinned.status, JSON.stringify(unpinned.body)).toBe(201);
      const failed = await settledPreflight(unpinned.body.id);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/workload\.containers\[0\]\.image: image rule image-arch: .*has no arm64 image \(it has amd64\)/);
      expect((failed.preview as WorkloadPreview | undefined)?.namespace ?? edgeNs).toBe(edgeNs);

      // The same image on the VDC's primary pool, pinned to its amd64 nodes, passes the preflight.
      const local = await deploy({
        kind: 'Deployment',
        name: 'amd-local',
        containers: [{ name: 'app', image, ...resources }],
        nodeSelector: { 'kubernetes.io/arch': 'amd64' },
      });
      expect(local.status, JSON.stringify(local.body)).toBe(201);
      const pending = await settledPreflight(local.body.id);
      expect(pending.status, pending.error).toBe('pending_approval');
      expect((pending.preview as WorkloadPreview).namespace).toBe(`vdc-${vdcId}`);
      await call('tenant', 'POST', `/tickets/${local.body.id}/cancel`, {});
    },
  );
});
