import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ApiException,
  AuthenticationV1Api,
  CertificatesV1Api,
  CoreV1Api,
  KubeConfig,
  type V1CertificateSigningRequest,
  type V1Node,
} from '@kubernetes/client-node';
import { buildCsr } from '../../infra/kube/pkcs10.ts';
import { caCertHash } from '../../activities/node-join.ts';
import { KUBELET_CLIENT_SIGNER } from '../../common/node-join-workflow.ts';
import { kwokNode } from '../servers/kube/objects.ts';

/**
 * A joining edge node for tests, doing what a kubelet's TLS bootstrap does against a real kube-apiserver:
 * authenticate with the bootstrap token (`Authorization: Bearer <id>.<secret>`), create a
 * CertificateSigningRequest for `system:node:<name>` (O `system:nodes`, kubelet client signer), wait until it
 * is approved and signed, then register its own Node with the issued client certificate (the Node authorizer
 * and NodeRestriction allow exactly that). kwok then plays the node (annotation) and makes it Ready.
 */

/** Which step of the join was refused, and the kube-apiserver's status (401 = the token is not accepted). */
export class KubeletJoinError extends Error {
  constructor(
    readonly step: 'csr-create' | 'csr-wait' | 'csr-denied' | 'node-create',
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeletJoinError';
  }
}

export interface KubeletJoinOptions {
  /** kube-apiserver URL, e.g. `https://127.0.0.1:23241`. */
  server: string;
  /** Base64 PEM of the cluster CA (the kubelet has it from discovery; the join command pins its hash). */
  caData: string;
  /** The bootstrap token `<id>.<secret>`. */
  token: string;
  nodeName: string;
  arch: string;
  /** Labels the kubelet registers with (`--node-labels`), besides the well-known ones. */
  labels?: Record<string, string>;
  /** How long to wait for the certificate (approval by Edgeport's worker) and for Ready. */
  timeoutMs?: number;
  /** false: a node no kubelet runs (no kwok annotation): it registers and never becomes Ready. */
  kwok?: boolean;
}

export interface KubeletJoinResult {
  node: V1Node;
  csrName: string;
  /** The issued client certificate (PEM): subject `system:node:<name>`. */
  certificate: string;
}

function kubeConfig(server: string, caData: string, user: { token: string } | { certData: string; keyData: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'pool', server, caData, skipTLSVerify: false }],
    users: [{ name: 'kubelet', ...user }],
    contexts: [{ name: 'kubelet', cluster: 'pool', user: 'kubelet' }],
    currentContext: 'kubelet',
  });
  return kc;
}

const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);
const messageOf = (err: unknown): string =>
  err instanceof ApiException ? `${err.code}: ${typeof err.body === 'string' ? err.body : JSON.stringify(err.body)}` : String(err);

/** The bootstrap identity's request for a client certificate, as the kubelet names and makes it. */
export async function requestKubeletCertificate(opts: KubeletJoinOptions): Promise<{ csrName: string; certificate: string; keyPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const request = buildCsr({ commonName: `system:node:${opts.nodeName}`, organizations: ['system:nodes'] }, privateKey, publicKey);
  const csrName = `node-csr-${createHash('sha256').update(request).digest('hex').slice(0, 32)}`;
  const certs = kubeConfig(opts.server, opts.caData, { token: opts.token }).makeApiClient(CertificatesV1Api);
  const body: V1CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: csrName },
    spec: { request: Buffer.from(request).toString('base64'), signerName: KUBELET_CLIENT_SIGNER, usages: ['digital signature', 'client auth'] },
  };
  try {
    await certs.createCertificateSigningRequest({ body });
  } catch (err) {
    throw new KubeletJoinError('csr-create', statusOf(err), `create CSR with the bootstrap token refused: ${messageOf(err)}`);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    let csr: V1CertificateSigningRequest;
    try {
      csr = await certs.readCertificateSigningRequest({ name: csrName });
    } catch (err) {
      throw new KubeletJoinError('csr-wait', statusOf(err), `read CSR ${csrName} with the bootstrap token refused: ${messageOf(err)}`);
    }
    const refused = csr.status?.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
    if (refused)
      throw new KubeletJoinError(
        'csr-denied',
        undefined,
        `CSR ${csrName} ${refused.type.toLowerCase()}: ${refused.reason ?? ''} ${refused.message ?? ''}`.trim(),
      );
    if (csr.status?.certificate) {
      return {
        csrName,
        certificate: Buffer.from(csr.status.certificate, 'base64').toString('utf8'),
        keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
    }
    if (Date.now() > deadline) throw new KubeletJoinError('csr-wait', undefined, `CSR ${csrName} was neither approved nor denied in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The Node a kubelet registers, marked for kwok (unless `kwok: false`). */
const kubeletNode = (opts: KubeletJoinOptions): V1Node =>
  kwokNode({
    name: opts.nodeName,
    arch: opts.arch,
    labels: opts.labels,
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    osImage: 'Edgeport test edge node (kwok)',
    kwok: opts.kwok !== false,
  });

/**
 * The whole kubelet join: certificate through the bootstrap token, then the Node registered with that
 * certificate, then (kwok) Ready. @throws KubeletJoinError naming the refused step
 */
export async function joinAsKubelet(opts: KubeletJoinOptions): Promise<KubeletJoinResult> {
  const { csrName, certificate, keyPem } = await requestKubeletCertificate(opts);
  const core = kubeConfig(opts.server, opts.caData, {
    certData: Buffer.from(certificate).toString('base64'),
    keyData: Buffer.from(keyPem).toString('base64'),
  }).makeApiClient(CoreV1Api);
  try {
    await core.createNode({ body: kubeletNode(opts) });
  } catch (err) {
    throw new KubeletJoinError('node-create', statusOf(err), `register Node ${opts.nodeName} with the issued certificate refused: ${messageOf(err)}`);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    if (opts.kwok === false) return { node: await core.readNode({ name: opts.nodeName }), csrName, certificate };
    const node = await core.readNode({ name: opts.nodeName });
    if (node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return { node, csrName, certificate };
    if (Date.now() > deadline) throw new Error(`kwok did not make node ${opts.nodeName} Ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What the join command (activities/node-join.ts `joinCommand`) tells the edge server. */
export interface ParsedJoinCommand {
  endpoint: string;
  token: string;
  tokenId: string;
  caCertHash?: string;
  nodeName: string;
  /** `--node-labels` of the kubelet. */
  labels: Record<string, string>;
}

/** Reads a join command as `kubeadm join` and the kubelet would. @throws Error when a part is missing */
export function parseJoinCommand(command: string): ParsedJoinCommand {
  const endpoint = /kubeadm join (\S+)/.exec(command)?.[1];
  const token = /--token ([a-z0-9]{6}\.[a-z0-9]{16})\b/.exec(command)?.[1];
  const nodeName = /--node-name (\S+)/.exec(command)?.[1];
  const caCertHash = /--discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(command)?.[1];
  const labelArg = /--node-labels=([^'\s]+)/.exec(command)?.[1] ?? '';
  if (!endpoint || !token || !nodeName) throw new Error(`not a join command: ${command.replace(/[a-z0-9]{16}/g, '…')}`);
  const labels = Object.fromEntries(
    labelArg
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  return { endpoint, token, tokenId: token.split('.')[0]!, nodeName, labels, ...(caCertHash ? { caCertHash } : {}) };
}

/**
 * Runs a join command as the edge server would: discovery pinned by the command's CA hash (checked against
 * the CA the test knows), then {@link joinAsKubelet} with the command's endpoint, token, node name and labels.
 * `nodeName` overrides the command's (a token used for another node).
 */
export async function runJoinCommand(
  command: string,
  opts: { caData: string; arch: string; nodeName?: string; timeoutMs?: number; kwok?: boolean },
): Promise<KubeletJoinResult> {
  const parsed = parseJoinCommand(command);
  if (parsed.caCertHash && parsed.caCertHash !== caCertHash(opts.caData)) throw new Error(`the join command pins CA ${parsed.caCertHash}, not the pool's CA`);
  return joinAsKubelet({
    server: `https://${parsed.endpoint}`,
    caData: opts.caData,
    token: parsed.token,
    nodeName: opts.nodeName ?? parsed.nodeName,
    arch: opts.arch,
    labels: parsed.labels,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.kwok === false ? { kwok: false } : {}),
  });
}

/** Server and CA of a kubeconfig file's current cluster (the test stack's `EDGEPORT_EDGE1_KUBECONFIG` etc.). */
export function clusterOfKubeconfig(path: string): { server: string; caData: string } {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const c = kc.getCurrentCluster();
  if (!c?.server) throw new Error(`${path}: no current cluster`);
  const caData = c.caData ?? (c.caFile ? readFileSync(c.caFile).toString('base64') : undefined);
  if (!caData) throw new Error(`${path}: the cluster has no CA`);
  return { server: c.server, caData };
}

/**
 * Who the kube-apiserver takes a bearer token for (a SelfSubjectReview, which any authenticated user may
 * make): `{ status: 201, username, groups }`, or the refusal's status (401 for a deleted or expired token).
 */
export async function whoIsToken(server: string, caData: string, token: string): Promise<{ status: number; username?: string; groups?: string[] }> {
  const api = kubeConfig(server, caData, { token }).makeApiClient(AuthenticationV1Api);
  try {
    const review = await api.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    return {
      status: 201,
      ...(review.status?.userInfo?.username ? { username: review.status.userInfo.username } : {}),
      groups: review.status?.userInfo?.groups ?? [],
    };
  } catch (err) {
    const status = statusOf(err);
    if (status === undefined) throw err;
    return { status };
  }
}

/**
 * Waits until the kube-apiserver refuses the token (it caches a successful token authentication for a few
 * seconds, so a just-deleted token may still pass briefly). Returns the last status seen.
 */
export async function untilTokenRefused(server: string, caData: string, token: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await whoIsToken(server, caData, token);
    if (status === 401 || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Registers a Node with the bootstrap token alone (no certificate): what the token must not allow. */
export async function registerNodeWithToken(opts: KubeletJoinOptions): Promise<number> {
  const core = kubeConfig(opts.server, opts.caData, { token: opts.token }).makeApiClient(CoreV1Api);
  try {
    await core.createNode({ body: kubeletNode(opts) });
    return 201;
  } catch (err) {
    const status = statusOf(err);
    if (status === undefined) throw err;
    return status;
  }
}
