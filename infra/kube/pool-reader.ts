import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from './client.ts';
import type { PoolCredentials } from './pool-credentials.ts';

/** Namespace of the reader ServiceAccount and its token Secret on every pool. */
export const READER_NAMESPACE = 'edgeport-system';
/** Name of the ServiceAccount, ClusterRole and ClusterRoleBinding of the read-only identity. */
export const READER_NAME = 'edgeport-reader';
const READER_TOKEN_SECRET = `${READER_NAME}-token`;
const READ = ['get', 'list', 'watch'];

/**
 * What the API's interactive reads need, and nothing else: workload lists and status, pods and their logs,
 * events, claims, quota usage, network policies, nodes (the deploy form's edge nodes, labels and taints).
 * No secrets or configmaps; no write verb.
 */
export const READER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'events', 'services', 'persistentvolumeclaims', 'resourcequotas', 'limitranges', 'namespaces', 'nodes'], verbs: READ },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'replicasets'], verbs: READ },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies', 'ingresses'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
];

const labels = { 'app.kubernetes.io/managed-by': 'edgeport', 'app.kubernetes.io/component': 'reader' };

function readerObjects(): KubernetesObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: READER_NAMESPACE, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: READER_NAME, namespace: READER_NAMESPACE, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: READER_NAME, labels }, rules: READER_RULES } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: READER_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: READER_NAME },
      subjects: [{ kind: 'ServiceAccount', name: READER_NAME, namespace: READER_NAMESPACE }],
    } as KubernetesObject,
    // A long-lived token: the token controller fills `data.token` for a Secret of this type.
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: READER_TOKEN_SECRET, namespace: READER_NAMESPACE, labels, annotations: { 'kubernetes.io/service-account.name': READER_NAME } },
    } as KubernetesObject,
  ];
}

/** Why the reader could not be made, for the pool record (never a credential). */
export class ReaderSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReaderSetupError';
  }
}

/**
 * Makes (idempotently, server-side apply with Edgeport's field manager) the pool's read-only identity with
 * the pool's registered credentials, waits for its token, and returns credentials for it: the token, and
 * the CA / TLS server name of the registered credentials (the token Secret's `ca.crt` when they have none).
 * @throws ReaderSetupError naming what failed (a refusal says which object the credentials may not write)
 */
export async function ensureReaderIdentity(kc: KubeConfig, registered: PoolCredentials, opts: { waitMs?: number } = {}): Promise<PoolCredentials> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  for (const obj of readerObjects()) {
    try {
      await objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      const what = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
      if (err instanceof ApiException) {
        const body = err.body as { message?: string } | string | undefined;
        const detail = typeof body === 'string' ? body : (body?.message ?? '');
        throw new ReaderSetupError(`cannot apply ${what} (${err.code})${detail ? `: ${detail}` : ''}`);
      }
      throw new ReaderSetupError(`cannot apply ${what}: ${(err as Error).message}`);
    }
  }
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  for (;;) {
    const secret = await core.readNamespacedSecret({ name: READER_TOKEN_SECRET, namespace: READER_NAMESPACE }).catch((err: unknown) => {
      throw new ReaderSetupError(
        `cannot read Secret ${READER_NAMESPACE}/${READER_TOKEN_SECRET}: ${err instanceof ApiException ? err.code : (err as Error).message}`,
      );
    });
    const token = secret.data?.token;
    if (token) {
      const caData = registered.caData ?? secret.data?.['ca.crt'];
      return {
        type: 'token',
        token: Buffer.from(token, 'base64').toString('utf8'),
        ...(caData ? { caData } : {}),
        ...(registered.tlsServerName ? { tlsServerName: registered.tlsServerName } : {}),
      };
    }
    if (Date.now() > deadline)
      throw new ReaderSetupError(
        `Secret ${READER_NAMESPACE}/${READER_TOKEN_SECRET} got no token (is the token controller of kube-controller-manager running?)`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
