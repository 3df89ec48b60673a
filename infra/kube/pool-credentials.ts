import https from 'node:https';
import { ApiException, KubeConfig, loadYaml, type RequestContext } from '@kubernetes/client-node';
import type { PoolAuth } from '../../common/pools.ts';

/**
 * How Edgeport authenticates to a registered pool, as sealed in its record. A registration by kubeconfig
 * is reduced to one of these at registration time: only the current context's embedded data is kept.
 */
export type PoolCredentials =
  | { type: 'token'; token: string; caData?: string; tlsServerName?: string }
  | { type: 'client-cert'; certData: string; keyData: string; caData?: string; tlsServerName?: string };

/** Thrown by {@link credentialsFromKubeconfig}: the kubeconfig cannot be used as given (message says why). */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Fields that make a client read local files, run programs, go through a proxy or skip TLS verification.
 * A kubeconfig comes from a user and is used inside the worker, so none of these is followed: they would
 * let a registration read the worker's files (`token-file` is read at parse time by client-node), run
 * commands on it (`exec`), or hand credentials to a man in the middle.
 */
const REFUSED_USER_FIELDS = ['exec', 'auth-provider', 'client-certificate', 'client-key', 'token-file', 'tokenFile', 'username', 'password', 'as', 'as-groups'];
const REFUSED_CLUSTER_FIELDS = ['certificate-authority', 'insecure-skip-tls-verify', 'proxy-url'];

/**
 * Reduces a kubeconfig to the credentials of its current context, refusing anything that is not embedded
 * data. Parses YAML only (safe schema: no custom tags); never touches the file system or the network.
 * @throws KubeconfigError naming what is wrong
 */
export function credentialsFromKubeconfig(yaml: string): { server: string; credentials: PoolCredentials } {
  let doc: unknown;
  try {
    doc = loadYaml<unknown>(yaml);
  } catch (err) {
    throw new KubeconfigError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw new KubeconfigError('not a kubeconfig (expected a mapping)');
  const current = str(doc['current-context']);
  if (!current) throw new KubeconfigError('current-context is not set');
  const named = (list: unknown, kind: string, name: string): Obj => {
    const entry = Array.isArray(list) ? list.find((e) => isObj(e) && e.name === name) : undefined;
    if (!isObj(entry) || !isObj(entry[kind])) throw new KubeconfigError(`${kind} "${name}" of the current context is missing`);
    return entry[kind];
  };
  const context = named(doc.contexts, 'context', current);
  const clusterName = str(context.cluster);
  const userName = str(context.user);
  if (!clusterName || !userName) throw new KubeconfigError(`context "${current}" must name a cluster and a user`);
  const cluster = named(doc.clusters, 'cluster', clusterName);
  const user = named(doc.users, 'user', userName);
  for (const f of REFUSED_CLUSTER_FIELDS) {
    if (cluster[f] !== undefined && cluster[f] !== false)
      throw new KubeconfigError(`cluster "${clusterName}" uses ${f}, which Edgeport does not follow; embed certificate-authority-data instead`);
  }
  for (const f of REFUSED_USER_FIELDS) {
    if (user[f] !== undefined)
      throw new KubeconfigError(`user "${userName}" uses ${f}; only an embedded token or client-certificate-data/client-key-data are supported`);
  }
  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(`cluster "${clusterName}" has no server`);
  const tls = {
    ...(str(cluster['certificate-authority-data']) ? { caData: str(cluster['certificate-authority-data']) } : {}),
    ...(str(cluster['tls-server-name']) ? { tlsServerName: str(cluster['tls-server-name']) } : {}),
  };
  const token = str(user.token);
  const certData = str(user['client-certificate-data']);
  const keyData = str(user['client-key-data']);
  if (token && !certData && !keyData) return { server, credentials: { type: 'token', token, ...tls } };
  if (certData && keyData && !token) return { server, credentials: { type: 'client-cert', certData, keyData, ...tls } };
  throw new KubeconfigError(`user "${userName}" must have either token or both client-certificate-data and client-key-data`);
}

/** The credentials to seal for a registration body (kubeconfig reduced; token and client-cert as given). */
export function credentialsFromAuth(auth: PoolAuth): { server?: string; credentials: PoolCredentials } {
  if (auth.type === 'kubeconfig') return credentialsFromKubeconfig(auth.kubeconfig);
  if (auth.type === 'token') return { credentials: { type: 'token', token: auth.token, caData: auth.caData } };
  return { credentials: { type: 'client-cert', certData: auth.certData, keyData: auth.keyData, caData: auth.caData } };
}

/** A KubeConfig whose every API request is aborted after `timeoutMs` (client-node sets no timeout itself). */
class BoundedKubeConfig extends KubeConfig {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setSignal(AbortSignal.timeout(this.timeoutMs));
  }
}

/** Builds an in-memory KubeConfig for one pool from its decrypted credentials; nothing touches disk. */
export function poolKubeConfig(server: string, creds: PoolCredentials, timeoutMs = 10_000): KubeConfig {
  const kc = new BoundedKubeConfig(timeoutMs);
  const user = creds.type === 'token' ? { name: 'pool', token: creds.token } : { name: 'pool', certData: creds.certData, keyData: creds.keyData };
  kc.loadFromOptions({
    clusters: [
      {
        name: 'pool',
        server,
        skipTLSVerify: false,
        ...(creds.caData ? { caData: creds.caData } : {}),
        ...(creds.tlsServerName ? { tlsServerName: creds.tlsServerName } : {}),
      },
    ],
    users: [user],
    contexts: [{ name: 'pool', cluster: 'pool', user: 'pool' }],
    currentContext: 'pool',
  });
  return kc;
}

const MAX_RAW_BODY = 1024 * 1024;

/**
 * GET of a non-resource path (`/version`, `/readyz?verbose`) with the pool's credentials. An HTTP error
 * status comes back as an `ApiException` (so `mapKubeError` maps it like any API call); network and TLS
 * errors and the timeout are plain errors.
 */
export async function rawGet(kc: KubeConfig, path: string, timeoutMs: number, acceptStatus: readonly number[] = []): Promise<{ status: number; body: string }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const opts: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json, text/plain' } };
  await kc.applyToHTTPSOptions(opts);
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(new URL(cluster.server + path), opts, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => {
        body += d;
        if (body.length > MAX_RAW_BODY) req.destroy(new Error(`${path}: answer larger than ${MAX_RAW_BODY} bytes`));
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      r.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
  if ((res.status >= 200 && res.status < 300) || acceptStatus.includes(res.status)) return res;
  let parsed: unknown = res.body;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    /* plain text */
  }
  throw new ApiException(res.status, `GET ${path} answered ${res.status}`, parsed, {});
}
