import { ApiException, CoreV1Api, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { KubeClients } from '../../infra/kube/client.ts';
import { poolKubeConfig, type PoolCredentials } from '../../infra/kube/pool-credentials.ts';
import { poolOfNamespace, type VdcPlacementShape } from '../../common/tenancy.ts';
import { CredentialsUnreadableError, type CredentialCipher } from '../../store/credentials.ts';
import { poolReaderAad, type PoolStore } from '../../store/pools.ts';
import { HttpError } from '../errors.ts';

/**
 * A pool the API cannot read right now: unreachable, too slow, refusing its read-only identity, or without
 * one. 503 naming the pool and why; the request itself was fine.
 */
export class PoolUnavailableError extends HttpError {
  constructor(
    readonly pool: string,
    reason: string,
  ) {
    super(503, 'Service Unavailable', `pool ${pool} is unavailable: ${reason}`);
  }
}

/** Clients of one pool's read-only identity (`edgeport-reader`), plus its KubeConfig for log streams. */
export interface PoolReader extends KubeClients {
  pool: string;
  kc: KubeConfig;
}

export interface PoolReadersDeps {
  pools: Pick<PoolStore, 'readerSealed'>;
  /** Opens the sealed reader tokens (the API's credentials key; it never opens a pool's write credentials). */
  cipher: CredentialCipher;
  /** Per-request timeout (ms): a pool that does not answer in time is a fast 503, not a hung request. */
  timeoutMs: number;
}

/** Network, TLS and timeout failures of the kube client (node-fetch `FetchError`, `AbortError`, `TimeoutError`). */
function networkReason(err: unknown): string | undefined {
  const e = err as { name?: string; code?: string; message?: string; type?: string; cause?: { code?: string; message?: string } };
  if (!(err instanceof Error)) return undefined;
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.type === 'aborted') return 'no answer in time';
  if (e.name === 'FetchError' || e.code || e.cause?.code) {
    const code = e.code ?? e.cause?.code;
    const message = e.cause?.message ?? e.message ?? '';
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return undefined;
}

/**
 * The one mapping of a failed pool read: unreachable / timed out / 5xx / reader refused → 503 naming the
 * pool; anything else (a 404 the caller handles, a bug) is rethrown unchanged. 4xx refusals mapped by
 * `mapKubeError` arrive as ApplicationFailures and are judged by their status the same way.
 */
export function poolReadFailure(err: unknown, pool: string, what: string): unknown {
  if (err instanceof HttpError) return err;
  const status =
    err instanceof ApiException ? err.code : err instanceof ApplicationFailure ? (err.details?.[0] as { status?: number } | undefined)?.status : undefined;
  if (status === 401 || status === 403)
    return new PoolUnavailableError(pool, `${what}: the pool refused Edgeport's read-only identity (${status}); re-check the pool to renew it`);
  if (status !== undefined && status >= 500) return new PoolUnavailableError(pool, `${what}: the kube-apiserver answered ${status}`);
  const network = networkReason(err);
  return network !== undefined ? new PoolUnavailableError(pool, `${what}: ${network}`) : err;
}

/**
 * Where the API's interactive reads (workload lists and status, pods, events, logs, claims, quota usage)
 * get their clients: the pool a namespace lives on (`poolOfNamespace`), with that pool's read-only identity,
 * made by the worker's registration check and sealed apart from the write credentials. The record is read on
 * every call (a re-check or re-registration is seen at once); clients are kept per pool while it is unchanged.
 */
export function poolReaders(deps: PoolReadersDeps) {
  const cache = new Map<string, { key: string; reader: PoolReader }>();

  async function forPool(poolId: string): Promise<PoolReader> {
    const rec = await deps.pools.readerSealed(poolId);
    if (!rec) throw new PoolUnavailableError(poolId, 'no such pool is registered');
    const sealed = rec.reader?.credentials;
    if (rec.reader?.status !== 'ready' || !sealed)
      throw new PoolUnavailableError(poolId, rec.reader?.reason ?? 'it has no read-only identity yet (re-check the pool)');
    const key = JSON.stringify([rec.server, sealed]);
    const hit = cache.get(poolId);
    if (hit?.key === key) return hit.reader;
    let creds: PoolCredentials;
    try {
      creds = JSON.parse(deps.cipher.open(sealed, poolReaderAad(poolId))) as PoolCredentials;
    } catch (err) {
      if (err instanceof CredentialsUnreadableError) throw new PoolUnavailableError(poolId, `its read-only credentials cannot be opened (${err.message})`);
      throw err;
    }
    const kc = poolKubeConfig(rec.server, creds, deps.timeoutMs);
    const reader: PoolReader = { pool: poolId, server: rec.server, kc, core: kc.makeApiClient(CoreV1Api), objects: KubernetesObjectApi.makeApiClient(kc) };
    cache.set(poolId, { key, reader });
    return reader;
  }

  /** Runs `fn` with the pool's reader, mapping its failures once (see {@link poolReadFailure}). */
  async function read<T>(poolId: string, what: string, fn: (r: PoolReader) => Promise<T>): Promise<T> {
    const reader = await forPool(poolId);
    try {
      return await fn(reader);
    } catch (err) {
      throw poolReadFailure(err, poolId, what);
    }
  }

  return {
    forPool,
    read,
    /** `read` on the pool `namespace` of this VDC lives on. */
    inNamespace<T>(vdc: VdcPlacementShape, namespace: string, what: string, fn: (r: PoolReader) => Promise<T>): Promise<T> {
      return read(poolOfNamespace(vdc, namespace), what, fn);
    },
  };
}
export type PoolReaders = ReturnType<typeof poolReaders>;
