import { randomBytes } from 'node:crypto';
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
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';

/** Kubeconfigs exported by the stack (`stack/cli.ts test`): the admin identity and the worker's. */
function kubeconfig(variable: 'EDGEPORT_KUBE_ADMIN_KUBECONFIG' | 'EDGEPORT_KUBECONFIG'): KubeConfig {
  const path = process.env[variable];
  if (!path) throw new Error(`${variable} is not set; run the tests through the stack (npm test)`);
  const kc = new KubeConfig();
  kc.loadFromFile(path);
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

const admin = kubeconfig('EDGEPORT_KUBE_ADMIN_KUBECONFIG');
const worker = kubeconfig('EDGEPORT_KUBECONFIG');
const adminCore = admin.makeApiClient(CoreV1Api);
const workerCore = worker.makeApiClient(CoreV1Api);
const workerObjects = KubernetesObjectApi.makeApiClient(worker);
const namespace = `kube-test-${randomBytes(4).toString('hex')}`;
const FIELD_MANAGER = 'edgeport-worker-test';

const apply = <T extends KubernetesObject>(obj: T): Promise<T> =>
  workerObjects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);

describe('local Kubernetes (real control plane, kwok nodes)', () => {
  afterAll(async () => {
    await adminCore.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('has both edge nodes Ready with their architectures', async () => {
    const { items } = await adminCore.listNode();
    const nodes = new Map(items.map((n) => [n.metadata?.name, n]));
    for (const [name, arch] of [['edge-amd64-1', 'amd64'], ['edge-arm64-1', 'arm64']] as const) {
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
    await worker.makeApiClient(AppsV1Api).createNamespacedDeployment({
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

    const pod = await eventually<V1Pod>('a Running pod', async () => {
      const { items } = await workerCore.listNamespacedPod({ namespace, labelSelector: 'app=web' });
      return items.find((p) => p.status?.phase === 'Running');
    });
    expect(['edge-amd64-1', 'edge-arm64-1']).toContain(pod.spec?.nodeName);
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
