import { ApiException, CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { POOL_FAILURES, type PoolCheckResult, type PoolOverviewResult, type SetSchedulableInput } from '../common/pool-workflows.ts';
import type { ComponentHealth, NodeView, PoolVersion, ResourceTotals } from '../common/pools.ts';
import type { Store } from '../store/index.ts';
import type { CredentialCipher } from '../store/credentials.ts';
import { poolReaderAad } from '../store/pools.ts';
import { FIELD_MANAGER, isNotFound, mapKubeError } from '../infra/kube/client.ts';
import { openPool } from '../infra/kube/pool-clients.ts';
import { poolKubeConfig, rawGet, type PoolCredentials } from '../infra/kube/pool-credentials.ts';
import { ensureReaderIdentity, ReaderSetupError } from '../infra/kube/pool-reader.ts';
import { listAllNodes, nodeStatus, nodeView, quantity, GI, round3 } from '../infra/kube/nodes.ts';

export interface PoolActivityDeps {
  store: Store;
  /** Opens the sealed pool credentials; absent when the worker has no credentials key (pool activities then fail). */
  credentials?: CredentialCipher;
}

/** Timeout of each request of a registration check. */
const CHECK_TIMEOUT_MS = 5_000;
/** How long a check waits for the reader's token (the token controller fills it within a second or so). */
const READER_TOKEN_WAIT_MS = 8_000;
/** Timeout of each request of a read (overview, nodes, cordon). */
const READ_TIMEOUT_MS = 10_000;
const PAGE = 500;
const refused = { credentialsRefused: POOL_FAILURES.credentialsRefused };

/** A network, TLS or timeout failure as one line (`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1`). */
function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Why a 401/403 happened, for people: 401 is a bad credential, 403 a credential without the needed rights. */
function refusalReason(err: ApiException<unknown>, what: string): string {
  const body = err.body as { message?: string } | string | undefined;
  const detail = typeof body === 'string' ? body : (body?.message ?? '');
  return err.code === 401
    ? 'the cluster refused the credentials (401 Unauthorized): the token or client certificate is invalid, expired or unknown to this cluster'
    : `the credentials are not allowed to ${what} (403 Forbidden)${detail ? `: ${detail}` : ''}`;
}

/**
 * Maps a failed read of a pool: 401/403 become `PoolCredentialsRefused` with a reason people understand,
 * other refusals `KubernetesRefused`, anything else is rethrown (retried) — all through `mapKubeError`.
 */
function failRead(err: unknown, poolId: string, what: string): never {
  if (err instanceof ApiException && (err.code === 401 || err.code === 403)) return mapKubeError(err, `pool ${poolId}: ${refusalReason(err, what)}`, refused);
  return mapKubeError(err, `pool ${poolId}: ${what}`, refused);
}

/** `[-]etcd failed: reason withheld` lines of `/readyz?verbose`. */
function failedReadyzChecks(body: string): string[] {
  return [...body.matchAll(/^\[-\]([^\s]+)/gm)].map((m) => m[1] as string);
}

/**
 * A pod's effective request of one resource, as the scheduler counts it: the larger of the app containers
 * (plus restartable init "sidecar" containers) and the largest ordinary init container, plus overhead.
 */
function podRequest(pod: V1Pod, resource: string): number {
  const spec = pod.spec;
  if (!spec) return 0;
  const req = (c: { resources?: { requests?: Record<string, string> } }): number => quantity(c.resources?.requests, resource);
  const sidecars = (spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const inits = (spec.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
  const running = [...spec.containers, ...sidecars].reduce((s, c) => s + req(c), 0);
  const initMax = inits.reduce((m, c) => Math.max(m, req(c)), 0);
  return Math.max(running, initMax) + quantity(spec.overhead, resource);
}

/** Pods that are bound to a node and not finished (they hold their requests on that node). */
async function listActivePods(core: CoreV1Api, nodeName?: string): Promise<V1Pod[]> {
  const items: V1Pod[] = [];
  let cont: string | undefined;
  const fieldSelector = ['status.phase!=Succeeded', 'status.phase!=Failed', nodeName ? `spec.nodeName=${nodeName}` : 'spec.nodeName!='].join(',');
  do {
    const page = await core.listPodForAllNamespaces({ fieldSelector, limit: PAGE, ...(cont ? { _continue: cont } : {}) });
    items.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return items;
}

/** Leader-election lease of a control-plane component in kube-system: healthy while it is being renewed. */
async function leaseHealth(kc: KubeConfig, name: 'controller-manager' | 'scheduler', now: number): Promise<ComponentHealth> {
  const coordination = kc.makeApiClient(CoordinationV1Api);
  try {
    const lease = await coordination.readNamespacedLease({ name: `kube-${name}`, namespace: 'kube-system' });
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const ageS = Math.round((now - renewed) / 1000);
    const holder = lease.spec?.holderIdentity;
    if (holder && now - renewed <= ((lease.spec?.leaseDurationSeconds ?? 15) + 5) * 1000) {
      return { name, status: 'healthy', detail: `leader ${holder}, lease renewed ${ageS} s ago` };
    }
    return { name, status: 'unhealthy', detail: holder ? `leader lease of ${holder} not renewed for ${ageS} s` : 'leader lease has no holder' };
  } catch (err) {
    if (err instanceof ApiException && err.code === 404)
      return { name, status: 'unknown', detail: 'no leader-election lease in kube-system (leader election off, or a managed control plane)' };
    if (err instanceof ApiException && err.code === 403) return { name, status: 'unknown', detail: 'the pool identity may not read leases in kube-system' };
    throw err;
  }
}

/** Requested storage of all PersistentVolumeClaims in GiB, or null when the pool identity may not list them. */
async function claimsGi(core: CoreV1Api): Promise<number | null> {
  try {
    let total = 0;
    let cont: string | undefined;
    do {
      const page = await core.listPersistentVolumeClaimForAllNamespaces({ limit: PAGE, ...(cont ? { _continue: cont } : {}) });
      for (const c of page.items) total += quantity(c.spec?.resources?.requests, 'storage');
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return round3(total / GI);
  } catch (err) {
    if (err instanceof ApiException && err.code === 403) return null;
    throw err;
  }
}

/**
 * Activities of resource pools. Each loads the pool's sealed credentials from MongoDB and decrypts them
 * here, in the worker: workflow inputs and results carry the pool id and non-secret facts only.
 * Kubernetes refusals go through `mapKubeError` (401/403 → non-retryable `PoolCredentialsRefused`);
 * network errors are rethrown for Temporal to retry, within the short retry policies of `workflows/pools.ts`.
 */
export function createPoolActivities(deps: PoolActivityDeps) {
  const { store } = deps;

  const load = async (poolId: string, timeoutMs: number): Promise<{ server: string; kc: KubeConfig; creds: PoolCredentials }> => {
    const { server, creds } = await openPool(store, deps.credentials, poolId);
    return { server, kc: poolKubeConfig(server, creds, timeoutMs), creds };
  };

  /**
   * Makes the pool's read-only identity and seals its token apart from the write credentials (AAD
   * `edgeport/pool/<id>/reader`), or records why it could not. Never fails the check: without a reader the
   * pool still hosts tenants, only the API's interactive reads of it answer 503 naming the reason.
   */
  const recordReader = async (poolId: string, kc: KubeConfig, creds: PoolCredentials): Promise<void> => {
    const checkedAt = new Date();
    try {
      const reader = await ensureReaderIdentity(kc, creds, { waitMs: READER_TOKEN_WAIT_MS });
      if (!deps.credentials) throw new ReaderSetupError('the worker has no credentials key');
      await store.pools.recordReader(poolId, { status: 'ready', credentials: deps.credentials.seal(JSON.stringify(reader), poolReaderAad(poolId)), checkedAt });
    } catch (err) {
      if (!(err instanceof ReaderSetupError)) throw err;
      await store.pools.recordReader(poolId, { status: 'unavailable', reason: `no read-only identity: ${err.message}`, checkedAt });
    }
  };

  return {
    /**
     * Registration check: GET /version and /readyz with the pool's credentials, recorded on the pool
     * (`ready`, or `unreachable` with the reason). A 401/403 records `refused` and then fails with the
     * non-retryable `PoolCredentialsRefused`. Only a MongoDB error is retried. A ready pool also gets (or
     * keeps) its read-only identity `edgeport-reader` (see `kube/pool-reader.ts`).
     */
    async checkPool(args: { poolId: string }): Promise<PoolCheckResult> {
      const started = Date.now();
      const { server, kc, creds } = await load(args.poolId, CHECK_TIMEOUT_MS);
      let result: PoolCheckResult;
      try {
        const v = JSON.parse((await rawGet(kc, '/version', CHECK_TIMEOUT_MS)).body) as { gitVersion?: string; platform?: string };
        const version: PoolVersion = { gitVersion: String(v.gitVersion ?? 'unknown'), ...(v.platform ? { platform: String(v.platform) } : {}) };
        const readyz = await rawGet(kc, '/readyz?verbose', CHECK_TIMEOUT_MS, [500, 503]);
        const failed = failedReadyzChecks(readyz.body);
        result =
          readyz.status === 200
            ? { status: 'ready', version, checkMs: Date.now() - started }
            : {
                status: 'unreachable',
                version,
                reason: `the apiserver is not ready (/readyz ${readyz.status}${failed.length ? `: ${failed.join(', ')} failing` : ''})`,
                checkMs: Date.now() - started,
              };
      } catch (err) {
        if (err instanceof ApiException && (err.code === 401 || err.code === 403)) {
          const reason = refusalReason(err, 'read /version');
          await store.pools.recordCheck(args.poolId, { status: 'refused', reason, checkMs: Date.now() - started, checkedAt: new Date() });
          mapKubeError(err, `pool ${args.poolId}: ${reason}`, refused);
        }
        const reason = err instanceof ApiException ? `${server}/version answered ${err.code}` : `cannot reach ${server}: ${describeNetworkError(err)}`;
        result = { status: 'unreachable', reason, checkMs: Date.now() - started };
      }
      if (result.status === 'ready') await recordReader(args.poolId, kc, creds);
      await store.pools.recordCheck(args.poolId, { ...result, checkedAt: new Date() });
      return result;
    },

    /** Node counts by status, component health and capacity/allocatable/requested totals. Read-only. */
    async readPoolOverview(args: { poolId: string }): Promise<PoolOverviewResult> {
      const { kc } = await load(args.poolId, READ_TIMEOUT_MS);
      const core = kc.makeApiClient(CoreV1Api);
      const now = Date.now();
      try {
        const [nodes, pods, readyz, controllerManager, scheduler, claims] = await Promise.all([
          listAllNodes(core),
          listActivePods(core),
          rawGet(kc, '/readyz?verbose', READ_TIMEOUT_MS, [500, 503]),
          leaseHealth(kc, 'controller-manager', now),
          leaseHealth(kc, 'scheduler', now),
          claimsGi(core),
        ]);
        const counts = { total: nodes.length, Ready: 0, NotReady: 0, Unknown: 0, unschedulable: 0 };
        for (const n of nodes) {
          counts[nodeStatus(n)]++;
          if (n.spec?.unschedulable) counts.unschedulable++;
        }
        const failed = failedReadyzChecks(readyz.body);
        const apiserver: ComponentHealth =
          readyz.status === 200
            ? { name: 'apiserver', status: 'healthy', detail: 'all /readyz checks pass', failedChecks: [] }
            : { name: 'apiserver', status: 'unhealthy', detail: `/readyz answered ${readyz.status}`, failedChecks: failed };
        const totals = (resource: string, scale = 1): ResourceTotals => ({
          capacity: round3(nodes.reduce((s, n) => s + quantity(n.status?.capacity, resource), 0) / scale),
          allocatable: round3(nodes.reduce((s, n) => s + quantity(n.status?.allocatable, resource), 0) / scale),
          requested: round3(pods.reduce((s, p) => s + podRequest(p, resource), 0) / scale),
        });
        return {
          nodes: counts,
          components: [apiserver, controllerManager, scheduler],
          resources: {
            cpu: totals('cpu'),
            memoryGi: totals('memory', GI),
            storageGi: totals('ephemeral-storage', GI),
            pods: { ...totals('pods'), requested: pods.length },
          },
          claimsGi: claims,
          readAt: new Date(now).toISOString(),
        };
      } catch (err) {
        return failRead(err, args.poolId, 'read the overview (nodes, pods, leases)');
      }
    },

    /** Every node with status, schedulability, architecture, labels and its count of active pods. Read-only. */
    async listPoolNodes(args: { poolId: string }): Promise<NodeView[]> {
      const { kc } = await load(args.poolId, READ_TIMEOUT_MS);
      const core = kc.makeApiClient(CoreV1Api);
      try {
        const [nodes, pods] = await Promise.all([listAllNodes(core), listActivePods(core)]);
        const perNode = new Map<string, number>();
        for (const p of pods) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
        return nodes.map((n) => nodeView(n, perNode.get(n.metadata?.name ?? '') ?? 0)).sort((a, b) => a.name.localeCompare(b.name));
      } catch (err) {
        return failRead(err, args.poolId, 'list nodes and pods');
      }
    },

    /**
     * Cordon (schedulable=false) or uncordon a node with a JSON merge patch of `spec.unschedulable` under
     * Edgeport's field manager, as `kubectl cordon` does. A patch, not server-side apply: an apply by the
     * same manager that later omits the field (e.g. labelling the node) would silently remove it.
     * Idempotent: patching to the current state changes nothing.
     */
    async setNodeSchedulable(args: SetSchedulableInput): Promise<NodeView> {
      const { kc } = await load(args.poolId, READ_TIMEOUT_MS);
      const core = kc.makeApiClient(CoreV1Api);
      try {
        const node = await core.patchNode(
          { name: args.node, body: { spec: { unschedulable: args.schedulable ? null : true } }, fieldManager: FIELD_MANAGER },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        const pods = await listActivePods(core, args.node);
        return nodeView(node, pods.length);
      } catch (err) {
        if (isNotFound(err)) throw ApplicationFailure.nonRetryable(`node ${args.node} does not exist in pool ${args.poolId}`, POOL_FAILURES.nodeNotFound);
        return failRead(err, args.poolId, `${args.schedulable ? 'uncordon' : 'cordon'} node ${args.node}`);
      }
    },
  };
}
export type PoolActivities = ReturnType<typeof createPoolActivities>;
