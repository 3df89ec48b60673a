import { readFileSync } from 'node:fs';
import { PatchStrategy } from '@kubernetes/client-node';
import { FIELD_MANAGER, type KubeClients } from '../infra/kube/client.ts';
import { credentialsFromKubeconfig } from '../infra/kube/pool-credentials.ts';
import { applyQuota } from '../infra/kube/quota.ts';
import { createPoolActivities } from '../activities/pools.ts';
import type { RoleBinding } from '../common/roles.ts';
import type { Quota } from '../common/tickets.ts';
import { credentialCipher } from '../store/credentials.ts';
import type { Store } from '../store/index.ts';
import { poolCredentialsAad } from '../store/pools.ts';
import { KUBE_CLUSTER_NAMES } from './lib/config.ts';
import { bindings, DEMO_USERS } from './oidc/demo-users.ts';
import { KUBE_CLUSTERS, kubeconfigEnvNames } from './servers/kube/layout.ts';

export interface SeedVdc {
  id: string;
  name: string;
  domainId: string;
  quota: Quota;
  /** The pool it lives on (`local` unless given); `kube` must be that pool's cluster. */
  pool?: string;
}

/** Namespace of a VDC's default application space. */
export const namespaceOf = (vdcId: string): string => `vdc-${vdcId}`;

/**
 * Creates (idempotently) a VDC record, its namespace and its ResourceQuota. Application spaces become a
 * ticket type later; the seed and tests create the first one directly.
 */
export async function seedVdc(store: Store, kube: KubeClients, vdc: SeedVdc): Promise<void> {
  const namespace = namespaceOf(vdc.id);
  await store.vdcs.upsert({
    _id: vdc.id,
    name: vdc.name,
    domainId: vdc.domainId,
    namespace,
    namespaceStatus: 'active',
    pool: vdc.pool ?? 'local',
    quota: vdc.quota,
  });
  await kube.objects.patch(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'edgeport.io/vdc': vdc.id, 'edgeport.io/domain': vdc.domainId } } },
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
  await applyQuota(kube, namespace, vdc.quota, { 'edgeport.io/vdc': vdc.id });
}

/** Grants a user extra bindings (deduplicated); used by the seed and by tests with their own VDCs. */
export async function grant(store: Store, user: { sub: string; username: string; name: string; email: string }, extra: readonly RoleBinding[]): Promise<void> {
  const current = (await store.users.get(user.sub))?.bindings ?? [];
  const key = (b: RoleBinding) => JSON.stringify(b);
  const merged = [...current, ...extra.filter((b) => !current.some((c) => key(c) === key(b)))];
  await store.users.upsert({ _id: user.sub, username: user.username, name: user.name, email: user.email, bindings: merged });
}

export const DEMO_VDCS: SeedVdc[] = [
  { id: 'demo', name: 'Demo VDC', domainId: 'demo-domain', quota: { cpu: 4, memoryGi: 8, pods: 20, storageGi: 100 } },
  { id: 'other', name: 'Other VDC', domainId: 'demo-domain', quota: { cpu: 2, memoryGi: 4, pods: 10, storageGi: 50 } },
];

/** The resource pool seeded VDCs live in: the local cluster. */
export const LOCAL_POOL = 'local';

/** The stack's second cluster (arm64 kwok nodes), registered as an edge pool for multi-pool tests. */
export const EDGE1_POOL = 'edge-1';

/** A cluster of the stack to register as a pool: its worker-identity kubeconfig and the key that seals it. */
export interface SeedPool {
  id: string;
  name: string;
  kubeconfigPath: string;
  credentialsKey: string;
}

/** The pools of the stack's clusters (`local`, `edge-1`), read from the app env (`stack/lib/app-env.ts`). */
export function stackPools(env: Readonly<Record<string, string | undefined>>): SeedPool[] {
  const credentialsKey = env.EDGEPORT_CREDENTIALS_KEY;
  if (!credentialsKey) throw new Error('EDGEPORT_CREDENTIALS_KEY is not set');
  return KUBE_CLUSTER_NAMES.map((c) => {
    const cluster = KUBE_CLUSTERS[c];
    const variable = kubeconfigEnvNames(cluster).worker;
    const kubeconfigPath = env[variable];
    if (!kubeconfigPath) throw new Error(`${variable} is not set`);
    return { id: cluster.name, name: cluster.poolName, kubeconfigPath, credentialsKey };
  });
}

/**
 * Registers a cluster as a pool with the worker's own kubeconfig (reduced to its client certificate and
 * sealed like any registration) and runs the registration check in-process.
 */
export async function seedPool(store: Store, pool: SeedPool): Promise<void> {
  const { server, credentials } = credentialsFromKubeconfig(readFileSync(pool.kubeconfigPath, 'utf8'));
  const cipher = credentialCipher(pool.credentialsKey);
  const sealed = cipher.seal(JSON.stringify(credentials), poolCredentialsAad(pool.id));
  await store.pools.upsert({
    _id: pool.id,
    name: pool.name,
    server,
    authType: 'kubeconfig',
    credentials: sealed,
    createdBy: { sub: 'system:seed', name: 'Seed' },
  });
  await createPoolActivities({ store, credentials: cipher }).checkPool({ poolId: pool.id });
}

/** The demo data `npm start` and the portal test rely on: the stack's pools, one domain, two VDCs (on `local`), the demo users' roles. */
export async function seedDemo(store: Store, kube: KubeClients, pools: readonly SeedPool[] = []): Promise<void> {
  await Promise.all(pools.map((p) => seedPool(store, p)));
  await store.testing.collection('domains').updateOne({ _id: 'demo-domain' as never }, { $set: { name: 'Demo Domain' } }, { upsert: true });
  for (const vdc of DEMO_VDCS) await seedVdc(store, kube, vdc);
  for (const u of DEMO_USERS) await grant(store, u, bindings[u.sub] ?? []);
}
