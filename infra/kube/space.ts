import { ApiException, PatchStrategy, type KubernetesObject, type V1LimitRange, type V1Namespace, type V1RoleBinding } from '@kubernetes/client-node';
import { FIELD_MANAGER, isNotFound, mapKubeError, type KubeClients } from './client.ts';

/** Labels Edgeport puts on every application space namespace (and its objects); tenants cannot set them. */
export const SPACE_LABELS = {
  vdc: 'edgeport.io/vdc',
  domain: 'edgeport.io/domain',
  space: 'edgeport.io/space',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Annotation naming the ticket that created a namespace: proof of ownership for retries and compensation. */
export const TICKET_ANNOTATION = 'edgeport.io/ticket';

export const LIMIT_RANGE_NAME = 'edgeport-limits';

/**
 * Container defaults of every space: the ResourceQuota limits requests and limits, so a pod that states
 * neither would be refused; these defaults let it in.
 */
export const SPACE_CONTAINER_DEFAULTS = {
  defaultRequest: { cpu: '100m', memory: '128Mi' },
  default: { cpu: '500m', memory: '512Mi' },
} as const;

/**
 * How Edgeport users appear to the kube-apiserver: the OIDC `sub` claim with this prefix (kube-apiserver
 * `--oidc-username-claim=sub --oidc-username-prefix=oidc:`).
 */
export const OIDC_USER_PREFIX = 'oidc:';

/** The RoleBindings of every space, one per built-in ClusterRole the worker may bind. */
export const SPACE_ROLE_BINDINGS = [
  { name: 'edgeport-admin', clusterRole: 'admin' },
  { name: 'edgeport-edit', clusterRole: 'edit' },
  { name: 'edgeport-view', clusterRole: 'view' },
] as const;
export type SpaceClusterRole = (typeof SPACE_ROLE_BINDINGS)[number]['clusterRole'];

/** Objects that make a namespace "in use": a space holding any of them is not deleted. */
const WORKLOAD_KINDS = [
  ['v1', 'Pod'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'ReplicaSet'],
  ['batch/v1', 'Job'],
  ['batch/v1', 'CronJob'],
  ['v1', 'Service'],
  ['v1', 'PersistentVolumeClaim'],
] as const;

export async function readNamespace(kube: KubeClients, name: string): Promise<V1Namespace | undefined> {
  try {
    return await kube.core.readNamespace({ name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    return mapKubeError(err, `read Namespace ${name}`);
  }
}

/** Creates the namespace unless it exists; atomic, so of two racing creators exactly one gets `created`. */
export async function createNamespaceIfAbsent(kube: KubeClients, ns: V1Namespace): Promise<'created' | 'exists'> {
  try {
    await kube.core.createNamespace({ body: ns, fieldManager: FIELD_MANAGER });
    return 'created';
  } catch (err) {
    if (err instanceof ApiException && err.code === 409) return 'exists';
    return mapKubeError(err, `create Namespace ${ns.metadata?.name}`);
  }
}

/** Server-side applies one object with Edgeport's field manager (forced); applying it again is a no-op. */
export async function applyObject<T extends KubernetesObject>(kube: KubeClients, obj: T): Promise<T> {
  try {
    return await kube.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (err) {
    const where = obj.metadata?.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata?.name;
    return mapKubeError(err, `apply ${obj.kind} ${where}`);
  }
}

export function limitRange(namespace: string, labels: Record<string, string>): V1LimitRange {
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: LIMIT_RANGE_NAME, namespace, labels },
    spec: {
      limits: [{ type: 'Container', defaultRequest: { ...SPACE_CONTAINER_DEFAULTS.defaultRequest }, _default: { ...SPACE_CONTAINER_DEFAULTS.default } }],
    },
  };
}

export function roleBinding(
  namespace: string,
  name: string,
  clusterRole: SpaceClusterRole,
  users: readonly string[],
  labels: Record<string, string>,
): V1RoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: users.map((u) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: u })),
  };
}

/** `Kind/name` of every workload-like object in the namespace (pods, controllers, services, volume claims). */
export async function listWorkloads(kube: KubeClients, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const [apiVersion, kind] of WORKLOAD_KINDS) {
    try {
      const list = await kube.objects.list(apiVersion, kind, namespace);
      for (const item of list.items) found.push(`${kind}/${item.metadata?.name}`);
    } catch (err) {
      mapKubeError(err, `list ${kind} in ${namespace}`);
    }
  }
  return found;
}

/**
 * Deletes the namespace if it is still the one read (uid precondition), tolerating one that is already
 * gone or already terminating. Returns once the delete is accepted, not when the namespace is gone.
 */
export async function deleteNamespace(kube: KubeClients, name: string, uid: string | undefined): Promise<void> {
  try {
    await kube.core.deleteNamespace({ name, ...(uid ? { body: { preconditions: { uid } } } : {}) });
  } catch (err) {
    if (isNotFound(err)) return;
    // 409: already terminating (or the uid changed, which the caller's next read will show).
    if (err instanceof ApiException && err.code === 409) return;
    mapKubeError(err, `delete Namespace ${name}`);
  }
}
