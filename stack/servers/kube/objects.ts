import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Node,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { waitFor } from '../../lib/proc.ts';
import { clusterInfoKubeconfig } from './certs.ts';
import { KWOK_NODE_ANNOTATION } from './kwok-config.ts';
import { KUBE_VERSIONS, type KubeLayout } from './layout.ts';

/** The simulated edge nodes every local cluster has, one per CPU architecture Edgeport schedules for. */
export const EDGE_NODES = [
  { name: 'edge-amd64-1', arch: 'amd64' },
  { name: 'edge-arm64-1', arch: 'arm64' },
] as const;

/** RBAC user of the worker's client certificate (CN), bound to the ClusterRole of the same name. */
export const WORKER_USER = 'edgeport-worker';

const FIELD_MANAGER = 'edgeport-stack';
const READ = ['get', 'list', 'watch'];
const MANAGE = [...READ, 'create', 'update', 'patch', 'delete'];

/**
 * What Edgeport's worker may do: manage tenant namespaces and what goes in them, read pods, their logs
 * and events, label nodes, and keep bootstrap-token Secrets in kube-system (covered by `secrets`, which
 * a ClusterRoleBinding grants in every namespace). Binding the built-in admin/edit/view roles is allowed
 * through `bind`, so the worker needs no `escalate`.
 */
const WORKER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'limitranges'], verbs: MANAGE },
  { apiGroups: [''], resources: ['services', 'configmaps', 'secrets', 'persistentvolumeclaims'], verbs: MANAGE },
  { apiGroups: [''], resources: ['pods', 'events'], verbs: READ },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: [''], resources: ['nodes'], verbs: [...READ, 'patch', 'update'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: MANAGE },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: READ },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: MANAGE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: MANAGE },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: MANAGE },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: MANAGE },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['admin', 'edit', 'view'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
];

function appliedObjects(l: KubeLayout): KubernetesObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: WORKER_USER },
      rules: WORKER_RULES,
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: WORKER_USER },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WORKER_USER },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: WORKER_USER }],
    } as KubernetesObject,
    // kwok's volume stages bind claims of this class, so PVCs (and StatefulSet pods using them) get Bound.
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'kwok-volume', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kwok.x-k8s.io/volume',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    } as KubernetesObject,
    // What joining nodes discover; the bootstrapsigner controller signs it for each bootstrap token.
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cluster-info', namespace: 'kube-public' },
      data: { kubeconfig: clusterInfoKubeconfig(l) },
    } as KubernetesObject,
  ];
}

function edgeNode(name: string, arch: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/arch': arch, 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, type: 'kwok' },
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    // Kept on create only (later writes go through status); kwok's node-initialize stage fills the rest.
    status: {
      capacity: { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '500Gi' },
      allocatable: { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '500Gi' },
      nodeInfo: {
        architecture: arch,
        operatingSystem: 'linux',
        kubeletVersion: KUBE_VERSIONS.kube,
        osImage: 'Edgeport simulated edge node (kwok)',
        bootID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        kubeProxyVersion: '',
        machineID: '',
        systemUUID: '',
      },
    },
  };
}

function adminConfig(l: KubeLayout): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(l.adminKubeconfig);
  return kc;
}

/**
 * Creates the cluster-wide objects Edgeport expects, idempotently: RBAC, StorageClass and cluster-info by
 * server-side apply (field manager `edgeport-stack`, forced), the edge Nodes only when absent so that
 * kwok-owned status is never rewritten.
 */
export async function ensureClusterObjects(l: KubeLayout): Promise<void> {
  const kc = adminConfig(l);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apply = (obj: KubernetesObject): Promise<KubernetesObject> =>
    objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  const createNode = async (name: string, arch: string): Promise<void> => {
    try {
      await core.createNode({ body: edgeNode(name, arch) });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
  };
  await Promise.all([...appliedObjects(l).map(apply), ...EDGE_NODES.map((n) => createNode(n.name, n.arch))]);
}

const CONDITION_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

/** Ready, and the controller-manager has lifted the not-ready taints, so pods can be scheduled on it. */
function schedulable(node: V1Node | undefined): boolean {
  const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return ready && !(node?.spec?.taints ?? []).some((t) => CONDITION_TAINTS.has(t.key));
}

/** Waits until every edge node is Ready and schedulable; throws with kwok's log tail on timeout. */
export async function waitNodesReady(l: KubeLayout, opts: { timeoutMs?: number; logFile?: string } = {}): Promise<void> {
  const core = adminConfig(l).makeApiClient(CoreV1Api);
  await waitFor(
    'edge nodes Ready',
    async () => {
      const { items } = await core.listNode({ labelSelector: 'type=kwok' });
      return EDGE_NODES.every((n) => schedulable(items.find((i) => i.metadata?.name === n.name)));
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100, logFile: opts.logFile },
  );
}
