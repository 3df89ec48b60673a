import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Lease,
  type V1Node,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { NODE_BOOTSTRAPPER_BINDING, NODE_JOIN_BOOTSTRAP_GROUP } from '../../../common/node-join-workflow.ts';
import { waitFor } from '../../lib/proc.ts';
import { clusterInfoKubeconfig } from './certs.ts';
import { KWOK_NODE_ANNOTATION } from './kwok-config.ts';
import { KUBE_VERSIONS, type KubeLayout } from './layout.ts';

export { EDGE_NODES } from './layout.ts';

/** RBAC user of the worker's client certificate (CN), bound to the ClusterRole of the same name. */
export const WORKER_USER = 'edgeport-worker';

const FIELD_MANAGER = 'edgeport-stack';
const READ = ['get', 'list', 'watch'];
const MANAGE = [...READ, 'create', 'update', 'patch', 'delete'];

/**
 * What Edgeport's worker may do: manage tenant namespaces and what goes in them, read pods, their logs
 * and events, label and cordon nodes, read leases (component health), and keep bootstrap-token Secrets
 * in kube-system (covered by `secrets`, which a ClusterRoleBinding grants in every namespace). Binding
 * the built-in admin/edit/view roles is allowed through `bind`, so the worker needs no `escalate`.
 */
/** What deciding node-join CSRs takes (the same three rules in the Helm chart and deploy/pool-identity.yaml). */
export const CSR_APPROVER_RULES: V1PolicyRule[] = [
  { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: READ },
  { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
  { apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['approve'], resourceNames: ['kubernetes.io/kube-apiserver-client-kubelet'] },
];

const WORKER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'limitranges'], verbs: MANAGE },
  { apiGroups: [''], resources: ['services', 'configmaps', 'secrets', 'persistentvolumeclaims'], verbs: MANAGE },
  { apiGroups: [''], resources: ['pods', 'events'], verbs: READ },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  // delete: a node-join ticket that fails after its node registered removes the Node (compensation).
  { apiGroups: [''], resources: ['nodes'], verbs: [...READ, 'patch', 'update', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: MANAGE },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: READ },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: MANAGE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: MANAGE },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: MANAGE },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: MANAGE },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['admin', 'edit', 'view'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  // Pool overview: controller-manager and scheduler health from their leader-election leases.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: READ },
  // The pool's read-only identity (infra/kube/pool-reader.ts): its ServiceAccount, ClusterRole and
  // binding, made by the registration check; its rules are a subset of these, so no `escalate` is needed.
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: [...READ, 'create', 'patch'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings'], verbs: ['create'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings'], verbs: ['get', 'patch'], resourceNames: ['edgeport-reader'] },
  // Node join: decide the CSRs joining kubelets make with Edgeport's one-time tokens (approve the one for the
  // ticket's node, deny others); only for the kubelet client signer.
  ...CSR_APPROVER_RULES,
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
    // Edgeport's join tokens may create CSRs (and read them back), nothing else: not `nodeclient`, so the
    // csrapproving controller never approves them; the worker does, for the token's own node only.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NODE_BOOTSTRAPPER_BINDING },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: NODE_JOIN_BOOTSTRAP_GROUP }],
    } as KubernetesObject,
    // kwok's volume stages bind claims of this class, so PVCs (and StatefulSet pods using them) get Bound.
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'kwok-volume', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kwok.x-k8s.io/volume',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
      // Workload upgrades may grow a claim (PVC expansion); the admission plugin refuses it otherwise.
      allowVolumeExpansion: true,
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

/** What a kwok-played Node is registered with; `kwok: false` leaves it for no kwok to take (a dead node). */
export interface KwokNodeSpec {
  name: string;
  arch: string;
  labels?: Record<string, string>;
  capacity: Record<string, string>;
  osImage: string;
  kwok?: boolean;
}

/**
 * A Node as a kubelet registers it, marked for kwok: status as reported on registration (kept on create only;
 * later writes go through status, and kwok's node-initialize stage fills the rest).
 */
export function kwokNode(spec: KwokNodeSpec): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: { ...spec.labels, 'kubernetes.io/arch': spec.arch, 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': spec.name },
      annotations: { ...(spec.kwok === false ? {} : { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value }), 'node.alpha.kubernetes.io/ttl': '0' },
    },
    status: {
      capacity: spec.capacity,
      allocatable: spec.capacity,
      nodeInfo: {
        architecture: spec.arch,
        operatingSystem: 'linux',
        kubeletVersion: KUBE_VERSIONS.kube,
        osImage: spec.osImage,
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

const edgeNode = (name: string, arch: string): V1Node =>
  kwokNode({
    name,
    arch,
    labels: { type: 'kwok' },
    capacity: { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '500Gi' },
    osImage: 'Edgeport simulated edge node (kwok)',
  });

function adminConfig(l: KubeLayout): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(l.adminKubeconfig);
  return kc;
}

/**
 * Creates the cluster-wide objects Edgeport expects, idempotently, on each of the stack's clusters (the
 * worker identity gets the same RBAC on every one, so any of them registers as a pool with it): RBAC,
 * StorageClass and cluster-info by server-side apply (field manager `edgeport-stack`, forced), the
 * cluster's edge Nodes only when absent so that kwok-owned status is never rewritten.
 */
export async function ensureClusterObjects(l: KubeLayout): Promise<void> {
  const kc = adminConfig(l);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apply = (obj: KubernetesObject): Promise<KubernetesObject> =>
    objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  const createNode = async (name: string, arch: string): Promise<void> => {
    await core.createNode({ body: edgeNode(name, arch) }).catch((err: unknown) => {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    });
  };
  await Promise.all([...appliedObjects(l).map(apply), ...l.cluster.nodes.map((n) => createNode(n.name, n.arch))]);
}

const CONDITION_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

const ignoreNotFound = (err: unknown): void => {
  if (!(err instanceof ApiException && err.code === 404)) throw err;
};

/**
 * Deletes the edge nodes' Leases before a new kwok starts. kwok takes a random holder identity per
 * process and manages a node's pods only while it holds its Lease, so a Lease left by the previous
 * process would otherwise stall every pod on that node until it expires (nodeLeaseDurationSeconds).
 */
export async function releaseNodeLeases(l: KubeLayout): Promise<void> {
  const coordination = adminConfig(l).makeApiClient(CoordinationV1Api);
  await Promise.all(l.cluster.nodes.map((n) => coordination.deleteNamespacedLease({ name: n.name, namespace: NODE_LEASE_NAMESPACE }).catch(ignoreNotFound)));
}

/** Ready, untainted by the controller-manager, and its Lease held and renewed (so kwok manages its pods). */
function schedulable(node: V1Node | undefined, lease: V1Lease | undefined, now: number): boolean {
  const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const tainted = (node?.spec?.taints ?? []).some((t) => CONDITION_TAINTS.has(t.key));
  const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
  const leased = !!lease?.spec?.holderIdentity && now - renewed < (lease.spec.leaseDurationSeconds ?? 40) * 1000;
  return ready && !tainted && leased;
}

/** Waits until every edge node is schedulable; throws with kwok's log tail on timeout. */
export async function waitNodesReady(l: KubeLayout, opts: { timeoutMs?: number; logFile?: string } = {}): Promise<void> {
  const kc = adminConfig(l);
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  await waitFor(
    `${l.cluster.name} edge nodes Ready`,
    async () => {
      const [nodes, leases] = await Promise.all([
        core.listNode({ labelSelector: 'type=kwok' }),
        coordination.listNamespacedLease({ namespace: NODE_LEASE_NAMESPACE }),
      ]);
      const byName = <T extends { metadata?: { name?: string } }>(items: T[], name: string): T | undefined => items.find((i) => i.metadata?.name === name);
      const now = Date.now();
      return l.cluster.nodes.every((n) => schedulable(byName(nodes.items, n.name), byName(leases.items, n.name), now));
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100, logFile: opts.logFile },
  );
}
