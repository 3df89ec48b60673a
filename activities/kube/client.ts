import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';

/** Every object Edgeport writes is owned by this field manager (server-side apply). */
export const FIELD_MANAGER = 'edgeport';

export interface KubeClients {
  core: CoreV1Api;
  objects: KubernetesObjectApi;
  server: string;
}

/** Builds the API clients once per worker from a kubeconfig file (worker identity, not admin). */
export function createKubeClients(kubeconfigPath: string): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    core: kc.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    server: kc.getCurrentCluster()?.server ?? 'unknown',
  };
}

/** Kubernetes refusals (4xx other than conflict and throttling) that a retry cannot fix. */
const NON_RETRYABLE = new Set([400, 401, 403, 404, 405, 410, 413, 415, 422]);

/**
 * The one place Kubernetes HTTP errors are mapped: a refusal becomes a non-retryable ApplicationFailure
 * of type `KubernetesRefused`; 409/429/5xx and network errors are rethrown so Temporal retries them.
 * With `credentialsRefused`, a 401/403 gets that type instead (a registered pool whose stored
 * credentials the cluster no longer accepts, as opposed to a refused request).
 */
export function mapKubeError(err: unknown, what: string, opts: { credentialsRefused?: string } = {}): never {
  if (err instanceof ApiException && NON_RETRYABLE.has(err.code)) {
    const body = err.body as { message?: string } | string | undefined;
    const message = typeof body === 'string' ? body : (body?.message ?? err.message);
    const type = opts.credentialsRefused && (err.code === 401 || err.code === 403) ? opts.credentialsRefused : 'KubernetesRefused';
    throw ApplicationFailure.nonRetryable(`${what}: ${message}`, type, { status: err.code });
  }
  throw err;
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;
