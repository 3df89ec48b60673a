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
const NON_RETRYABLE = new Set([400, 404, 405, 410, 413, 415, 422]);
/**
 * 401/403 to the worker's own credentials: a restarted kube-apiserver answers 403 until its authorizer's
 * caches are warm, so these are retried with backoff (a real RBAC gap shows as the activity's last failure
 * in the timeline until it is fixed, then the ticket carries on). Pool credentials map them to their own type.
 */
const AUTH_REFUSED = new Set([401, 403]);

/**
 * The one place Kubernetes HTTP errors are mapped: a refusal becomes a non-retryable ApplicationFailure
 * of type `KubernetesRefused`; 401/403 a retryable `KubernetesAuthRefused`; 409/429/5xx and network errors
 * are rethrown so Temporal retries them. With `credentialsRefused`, a 401/403 gets that non-retryable type
 * instead (a registered pool whose stored credentials the cluster no longer accepts).
 */
/**
 * `credentialsRefused`: the failure type of a 401/403 to stored credentials (non-retryable unless `retryable`:
 * a kube-apiserver that just restarted answers 403 until its RBAC caches sync, so callers with a bounded retry
 * window ride it out and still fail, naming the refusal, when it lasts).
 */
export function mapKubeError(err: unknown, what: string, opts: { credentialsRefused?: string; retryable?: boolean } = {}): never {
  if (err instanceof ApiException && (NON_RETRYABLE.has(err.code) || AUTH_REFUSED.has(err.code))) {
    const body = err.body as { message?: string } | string | undefined;
    const message = typeof body === 'string' ? body : (body?.message ?? err.message);
    if (AUTH_REFUSED.has(err.code)) {
      if (opts.credentialsRefused)
        throw ApplicationFailure.create({
          message: `${what}: ${message}`,
          type: opts.credentialsRefused,
          nonRetryable: !opts.retryable,
          details: [{ status: err.code }],
        });
      throw ApplicationFailure.retryable(`${what}: ${message}`, 'KubernetesAuthRefused', { status: err.code });
    }
    throw ApplicationFailure.nonRetryable(`${what}: ${message}`, 'KubernetesRefused', { status: err.code });
  }
  throw err;
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;
