import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Pod,
  type V1ResourceQuota,
  VersionApi,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsFromKubeconfig } from '../../infra/kube/pool-credentials.ts';
import { openStore } from '../../store/index.ts';
import { EDGE1_POOL } from '../seed.ts';
import { stackEnv } from '../testing/env.ts';
import { EDGE_NODES, KUBE_CLUSTERS, KUBE_VERSIONS, type KubeCluster, kubeconfigEnvNames } from './kube/layout.ts';

/** Kubeconfigs exported by the stack (`stack/cli.ts test`): the admin identity and the worker's, per cluster. */
function kubeconfig(variable: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(stackEnv(variable));
  return kc;
}

async function eventually<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const FIELD_MANAGER = 'edgeport-worker-test';

/** Clients of one of the stack's clusters, as its admin and as the worker identity. */
function clusterClients(c: KubeCluster) {
  const names = kubeconfigEnvNames(c);
  const admin = kubeconfig(names.admin);
  const worker = kubeconfig(names.worker);
  const workerObjects = KubernetesObjectApi.makeApiClient(worker);
  return {
    admin,
    worker,
    adminCore: admin.makeApiClient(CoreV1Api),
    workerCore: worker.makeApiClient(CoreV1Api),
    apply: <T extends KubernetesObject>(obj: T): Promise<T> =>
      workerObjects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
  };
}

/** Creates a 1-replica Deployment as the worker and resolves with its pod once kwok reports it Running. */
async function runningPod(k: ReturnType<typeof clusterClients>, namespace: string): Promise<V1Pod> {
  await k.worker.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'web', image: 'registry.invalid/web:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
          },
        },
      },
    },
  });
  return eventually<V1Pod>('a Running pod', async () => {
    const { items } = await k.workerCore.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    return items.find((p) => p.status?.phase === 'Running');
  });
}

const local = clusterClients(KUBE_CLUSTERS.local);
const { adminCore, workerCore, apply } = local;
const namespace = `kube-test-${randomBytes(4).toString('hex')}`;

describe('local Kubernetes (real control plane, kwok nodes)', () => {
  afterAll(async () => {
    await adminCore.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('has both edge nodes Ready with their architectures', async () => {
    const { items } = await adminCore.listNode();
    const nodes = new Map(items.map((n) => [n.metadata?.name, n]));
    for (const { name, arch } of EDGE_NODES) {
      const node = nodes.get(name);
      expect(node?.metadata?.labels?.['kubernetes.io/arch']).toBe(arch);
      expect(node?.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
      expect(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node?.status?.allocatable?.pods).toBe('110');
    }
  });

  it('lets the worker server-side-apply a namespace and a ResourceQuota, whose status.used follows', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'edgeport.io/test': 'kube' } } });
    const applied = await apply<V1ResourceQuota>({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'compute', namespace },
      spec: { hard: { pods: '4', 'requests.cpu': '2', 'requests.memory': '4Gi' } },
    });
    expect(applied.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply')).toBe(true);

    const used = await eventually('ResourceQuota status.used', async () => {
      const quota = await workerCore.readNamespacedResourceQuota({ name: 'compute', namespace });
      return quota.status?.used;
    });
    expect(used).toMatchObject({ pods: '0', 'requests.cpu': '0', 'requests.memory': '0' });
  });

  it('runs a 1-replica Deployment on a kwok node, counted in the quota, with logs via the worker', async () => {
    const pod = await runningPod(local, namespace);
    expect(EDGE_NODES.map((n) => n.name)).toContain(pod.spec?.nodeName);
    expect(pod.status?.podIP).toBeTruthy();

    const used = await eventually('quota usage of the pod', async () => {
      const quota = await workerCore.readNamespacedResourceQuota({ name: 'compute', namespace });
      return quota.status?.used?.pods === '1' ? quota.status.used : undefined;
    });
    expect(used).toMatchObject({ 'requests.cpu': '100m', 'requests.memory': '64Mi' });

    const log = await workerCore.readNamespacedPodLog({ name: pod.metadata?.name ?? '', namespace, container: 'web' });
    expect(log).toContain('simulated container on a kwok node');
  });
});

describe('edge-1: a second real control plane with arm64 kwok nodes', () => {
  const edge = clusterClients(KUBE_CLUSTERS['edge-1']);
  const edgeNamespace = `kube-edge-test-${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    await edge.adminCore.deleteNamespace({ name: edgeNamespace }).catch(() => undefined);
  });

  it('answers /version on its own apiserver, with a worker kubeconfig a pool registration accepts', async () => {
    const version = await edge.admin.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(KUBE_VERSIONS.kube);
    const edgeServer = edge.admin.getCurrentCluster()?.server;
    expect(edgeServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(edgeServer).not.toBe(local.admin.getCurrentCluster()?.server);

    const { server, credentials } = credentialsFromKubeconfig(readFileSync(stackEnv(kubeconfigEnvNames(KUBE_CLUSTERS['edge-1']).worker), 'utf8'));
    expect(server).toBe(edgeServer);
    expect(credentials.type).toBe('client-cert');
  });

  it("has only Ready arm64 nodes (label and nodeInfo), none of local's", async () => {
    const { items } = await edge.adminCore.listNode();
    // The stack's own nodes; tests running beside this one may join further nodes to edge-1 (edge node join).
    const own = KUBE_CLUSTERS['edge-1'].nodes.map((n) => n.name);
    const names = items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(own));
    for (const local of KUBE_CLUSTERS.local.nodes) expect(names).not.toContain(local.name);
    for (const node of items.filter((n) => own.includes(n.metadata?.name ?? ''))) {
      expect(node.metadata?.labels?.['kubernetes.io/arch']).toBe('arm64');
      expect(node.status?.nodeInfo?.architecture).toBe('arm64');
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
  });

  it('keeps its objects apart: a namespace the worker applies on edge-1 does not exist on local, and its pod runs on an arm64 node', async () => {
    await edge.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: edgeNamespace, labels: { 'edgeport.io/test': 'kube-edge' } } });
    expect((await edge.adminCore.readNamespace({ name: edgeNamespace })).status?.phase).toBe('Active');
    await expect(adminCore.readNamespace({ name: edgeNamespace })).rejects.toMatchObject({ code: 404 });

    const pod = await runningPod(edge, edgeNamespace);
    expect(KUBE_CLUSTERS['edge-1'].nodes.map((n) => n.name)).toContain(pod.spec?.nodeName);
    expect(pod.status?.podIP).toMatch(/^10\.245\./);
  });

  it('was registered by the seed as pool edge-1, checked ready', async () => {
    const store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
    try {
      expect(await store.pools.get(EDGE1_POOL)).toMatchObject({ status: 'ready', authType: 'kubeconfig', server: edge.admin.getCurrentCluster()?.server });
    } finally {
      await store.close();
    }
  });
});
