import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { POOL_FAILURES } from '../../common/pool-workflows.ts';
import { poolOfNamespace } from '../../common/tenancy.ts';
import { CredentialsUnreadableError, type CredentialCipher } from '../../store/credentials.ts';
import type { Store } from '../../store/index.ts';
import { poolCredentialsAad } from '../../store/pools.ts';
import type { KubeClients } from './client.ts';
import { poolKubeConfig, type PoolCredentials } from './pool-credentials.ts';

/** Clients of one registered pool, opened from its sealed credentials. */
export interface PoolKubeClients extends KubeClients {
  pool: string;
}

/**
 * Where every tenant-facing Kubernetes call of the worker gets its clients: the pool a VDC's namespace lives
 * on, with that pool's own sealed credentials (opened here, in the worker, and never passed on). There is no
 * global cluster: a VDC whose pool is unknown or whose credentials cannot be opened fails non-retryably.
 */
export interface PoolClients {
  /** @throws non-retryable `PoolNotFound` / `PoolCredentialsUnreadable` */
  forPool(poolId: string): Promise<PoolKubeClients>;
  /** The pool of `namespace` of VDC `vdcId` (its first namespace, a placement's or a space's). @throws `VdcNotFound` too */
  forNamespace(vdcId: string, namespace: string): Promise<PoolKubeClients>;
  /** The pool of a namespace, found from the VDC owning it (activities whose input names only the namespace). */
  forOwnedNamespace(namespace: string): Promise<PoolKubeClients>;
  /** Every pool the VDC is placed on, primary first. */
  forVdcPools(vdcId: string): Promise<PoolKubeClients[]>;
}

export const VDC_NOT_FOUND = 'VdcNotFound';

/** A pool's server and decrypted credentials, opened in the worker only. */
export interface OpenedPool {
  server: string;
  creds: PoolCredentials;
  /** The sealed record's identity: changes when the pool is registered again or its credentials rotate. */
  key: string;
}

/**
 * Opens a pool's sealed credentials: the one place the worker decrypts them.
 * @throws non-retryable `PoolNotFound` (no record) / `PoolCredentialsUnreadable` (no key, tampered or unknown key id)
 */
export async function openPool(store: Store, credentials: CredentialCipher | undefined, poolId: string): Promise<OpenedPool> {
  const rec = await store.pools.sealed(poolId);
  if (!rec) throw ApplicationFailure.nonRetryable(`pool ${poolId} does not exist`, POOL_FAILURES.notFound);
  if (!credentials) throw ApplicationFailure.nonRetryable('the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY)', POOL_FAILURES.credentialsUnreadable);
  try {
    const creds = JSON.parse(credentials.open(rec.credentials, poolCredentialsAad(poolId))) as PoolCredentials;
    return { server: rec.server, creds, key: JSON.stringify([rec.server, rec.credentials]) };
  } catch (err) {
    if (err instanceof CredentialsUnreadableError) throw ApplicationFailure.nonRetryable(`pool ${poolId}: ${err.message}`, POOL_FAILURES.credentialsUnreadable);
    throw err;
  }
}

/** Per-request timeout of tenant-facing calls (a hung pool must not hold an activity slot forever). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Builds the worker's pool client cache. Opening is cheap but not free (decrypt + TLS setup), so clients are
 * kept per pool and rebuilt when the stored credentials or server change (re-registration, rotation); the
 * record is read on every call, so a changed or deleted pool is seen at once.
 */
export function createPoolClients(deps: { store: Store; credentials?: CredentialCipher }): PoolClients {
  const cache = new Map<string, { key: string; clients: PoolKubeClients }>();

  async function forPool(poolId: string): Promise<PoolKubeClients> {
    const rec = await deps.store.pools.sealed(poolId);
    const hit = cache.get(poolId);
    if (rec && hit && hit.key === JSON.stringify([rec.server, rec.credentials])) return hit.clients;
    const opened = await openPool(deps.store, deps.credentials, poolId);
    const kc = poolKubeConfig(opened.server, opened.creds, REQUEST_TIMEOUT_MS);
    const clients: PoolKubeClients = { pool: poolId, server: opened.server, core: kc.makeApiClient(CoreV1Api), objects: KubernetesObjectApi.makeApiClient(kc) };
    cache.set(poolId, { key: opened.key, clients });
    return clients;
  }

  const vdcOf = async (vdcId: string) => {
    const vdc = await deps.store.vdcs.get(vdcId);
    if (!vdc) throw ApplicationFailure.nonRetryable(`VDC ${vdcId} does not exist`, VDC_NOT_FOUND);
    return vdc;
  };

  return {
    forPool,
    async forNamespace(vdcId, namespace) {
      return forPool(poolOfNamespace(await vdcOf(vdcId), namespace));
    },
    async forOwnedNamespace(namespace) {
      const vdc = await deps.store.vdcs.byAnyNamespace(namespace);
      if (!vdc) throw ApplicationFailure.nonRetryable(`no VDC owns namespace ${namespace}`, VDC_NOT_FOUND);
      return forPool(poolOfNamespace(vdc, namespace));
    },
    async forVdcPools(vdcId) {
      const vdc = await vdcOf(vdcId);
      return Promise.all([vdc.pool, ...(vdc.placements ?? []).map((p) => p.pool)].map(forPool));
    },
  };
}
