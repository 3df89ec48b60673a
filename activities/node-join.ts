import { createHash, randomInt, X509Certificate } from 'node:crypto';
import {
  ApiException,
  CertificatesV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1CertificateSigningRequest,
  type V1Node,
  type V1Secret,
} from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import {
  bootstrapUser,
  joinTokenGroup,
  KUBELET_CLIENT_SIGNER,
  NODE_ARCH_MISMATCH,
  NODE_JOIN_BOOTSTRAP_GROUP,
  NODE_JOIN_ERRORS,
  NODE_JOIN_LABELS,
  type IssuedJoinToken,
  type JoinedNodeRecord,
  type NodeJoinCheck,
  type NodeJoinReview,
  type NodeJoinSpec,
} from '../common/node-join-workflow.ts';
import { POOL_FAILURES } from '../common/pool-workflows.ts';
import type { VdcRef } from '../common/ticket-workflow.ts';
import type { NodeJoinPreview } from '../common/tickets.ts';
import type { CredentialCipher } from '../store/credentials.ts';
import type { Store } from '../store/index.ts';
import { joinCommandAad } from '../store/node-joins.ts';
import { costPreviewer } from './cost-preview.ts';
import { isNotFound, mapKubeError } from '../infra/kube/client.ts';
import { parseCsrSubject } from '../infra/kube/pkcs10.ts';
import { openPool } from '../infra/kube/pool-clients.ts';
import { poolKubeConfig, type PoolCredentials } from '../infra/kube/pool-credentials.ts';

export interface NodeJoinActivityDeps {
  store: Store;
  /** Seals the join token and opens the pool credentials; without it node-join activities fail non-retryably. */
  credentials?: CredentialCipher;
}

/** Field manager of the labels and taints Edgeport sets on a joined node (apart from `edgeport`, which cordons). */
export const NODE_JOIN_FIELD_MANAGER = 'edgeport-node-join';
const TOKEN_NAMESPACE = 'kube-system';
const TIMEOUT_MS = 10_000;
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const randomToken = (length: number): string => Array.from({ length }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');
export const bootstrapSecretName = (tokenId: string): string => `bootstrap-token-${tokenId}`;

/** What is sealed for a ticket: the token (to re-create its Secret on a retry) and the join command. */
interface SealedJoin {
  token: string;
  command: string;
}

/** Every label the node gets: tenant labels, then Edgeport's (which win). */
export function nodeJoinLabels(vdc: VdcRef, ticketId: string, node: NodeJoinSpec): Record<string, string> {
  return { ...node.labels, [NODE_JOIN_LABELS.vdc]: vdc.id, [NODE_JOIN_LABELS.pool]: node.pool, [NODE_JOIN_LABELS.ticket]: ticketId };
}

/** Hash of what an approver decides on: pool, node name, arch, labels, taints and token lifetime. */
export function nodeJoinPreviewHash(node: NodeJoinSpec, labels: Record<string, string>): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  const taints = node.taints.map((t) => [t.key, t.value ?? '', t.effect]).sort((a, b) => a.join('\0').localeCompare(b.join('\0')));
  return createHash('sha256')
    .update(JSON.stringify([node.pool, node.nodeName, node.arch ?? null, sorted, taints, node.tokenTtlMinutes]))
    .digest('hex')
    .slice(0, 32);
}

/** `sha256:<hex>` of the CA's SubjectPublicKeyInfo, as `kubeadm join --discovery-token-ca-cert-hash` expects. */
export function caCertHash(caDataBase64: string): string {
  const cert = new X509Certificate(Buffer.from(caDataBase64, 'base64'));
  return `sha256:${createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

/**
 * The command the edge node runs: the kubelet registers with the node label carrying the token id (how the
 * workflow tells which token a node used), then `kubeadm join` with the one-time token.
 */
export function joinCommand(server: string, token: string, tokenId: string, nodeName: string, caData: string | undefined): string {
  const endpoint = new URL(server).host;
  const discovery = caData ? `--discovery-token-ca-cert-hash ${caCertHash(caData)}` : '--discovery-token-unsafe-skip-ca-verification';
  return [
    `echo 'KUBELET_EXTRA_ARGS=--node-labels=${NODE_JOIN_LABELS.joinToken}=${tokenId}' > /etc/default/kubelet &&`,
    `kubeadm join ${endpoint} --token ${token} ${discovery} --node-name ${nodeName}`,
  ].join(' ');
}

/**
 * The architectures a pool runs: those of its registered nodes (`kubernetes.io/arch`, else the kubelet's
 * report), or, in a pool without nodes, its control plane's (`/version` platform, e.g. `linux/amd64`).
 * Empty when neither is known (the check is then skipped).
 */
async function poolArchitectures(core: CoreV1Api, pool: string, platform: string | undefined): Promise<string[]> {
  const arches = new Set<string>();
  let cont: string | undefined;
  do {
    let page;
    try {
      page = await core.listNode({ limit: 500, ...(cont ? { _continue: cont } : {}) });
    } catch (err) {
      return mapKubeError(err, `pool ${pool}: list nodes`, { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true });
    }
    for (const n of page.items) {
      const arch = n.metadata?.labels?.['kubernetes.io/arch'] || n.status?.nodeInfo?.architecture;
      if (arch) arches.add(arch);
    }
    cont = page.metadata?._continue || undefined;
  } while (cont);
  if (arches.size === 0 && platform?.includes('/')) arches.add(platform.split('/')[1]!);
  return [...arches].sort();
}

/** Usages a kubelet client certificate may ask for (key encipherment only with RSA keys). */
const KUBELET_CLIENT_USAGES = new Set(['digital signature', 'client auth', 'key encipherment']);

/** A join CSR's verdict: approve, or deny naming the node it claimed and why. */
export type JoinCsrVerdict = { approve: true } | { approve: false; claimed: string; reason: string };

/**
 * Whether a CertificateSigningRequest made with a ticket's join token is the one that token is for: the
 * kubelet client signer, requested by `system:bootstrap:<tokenId>` whose groups hold the node's
 * {@link joinTokenGroup}, for subject CN `system:node:<nodeName>`, O `system:nodes`, client usages only. Pure.
 */
export function judgeJoinCsr(csr: V1CertificateSigningRequest, expected: { tokenId: string; nodeName: string }): JoinCsrVerdict {
  const spec = csr.spec;
  let subject: ReturnType<typeof parseCsrSubject> | undefined;
  try {
    subject = parseCsrSubject(Buffer.from(spec.request, 'base64').toString('utf8'));
  } catch {
    subject = undefined;
  }
  const cn = subject?.commonName ?? '';
  const claimed = cn.startsWith('system:node:') ? cn.slice('system:node:'.length) : cn || `CSR ${csr.metadata?.name ?? ''}`;
  const deny = (reason: string): JoinCsrVerdict => ({ approve: false, claimed, reason });
  if (spec.username !== bootstrapUser(expected.tokenId)) return deny(`requested by ${spec.username}, not the join token ${expected.tokenId}`);
  if (!(spec.groups ?? []).includes(joinTokenGroup(expected.nodeName))) return deny(`the requester's groups do not bind it to node ${expected.nodeName}`);
  if (spec.signerName !== KUBELET_CLIENT_SIGNER) return deny(`signer ${spec.signerName}, not ${KUBELET_CLIENT_SIGNER}`);
  if (!subject) return deny('the request is not a readable PKCS#10 certificate request');
  if (cn !== `system:node:${expected.nodeName}`) return deny(`common name ${cn || '(none)'}, not system:node:${expected.nodeName}`);
  if (subject.organizations.length !== 1 || subject.organizations[0] !== 'system:nodes')
    return deny(`organizations ${subject.organizations.join(', ') || '(none)'}, not system:nodes`);
  const usages = spec.usages ?? [];
  if (!usages.includes('client auth') || usages.some((u) => !KUBELET_CLIENT_USAGES.has(u)))
    return deny(`usages ${usages.join(', ')} are not a kubelet client certificate's`);
  return { approve: true };
}

const csrDecided = (csr: V1CertificateSigningRequest): 'Approved' | 'Denied' | undefined =>
  csr.status?.conditions?.find((c) => (c.type === 'Approved' || c.type === 'Denied') && c.status === 'True')?.type as 'Approved' | 'Denied' | undefined;

const isReady = (node: V1Node): boolean => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * Activities of the node-join process. They act on the pool's cluster with the pool's sealed credentials,
 * opened here in the worker. The join token is generated inside {@link issueJoinToken} and leaves it only
 * sealed (MongoDB) and as the bootstrap-token Secret: workflow inputs and results carry its public id only.
 */
export function createNodeJoinActivities(deps: NodeJoinActivityDeps) {
  const { store } = deps;
  const joins = store.nodeJoins;
  const pricing = costPreviewer(store);

  const cipher = (): CredentialCipher => {
    if (!deps.credentials)
      throw ApplicationFailure.nonRetryable('the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY)', NODE_JOIN_ERRORS.noCredentialsKey);
    return deps.credentials;
  };

  const load = async (poolId: string): Promise<{ server: string; creds: PoolCredentials; kc: KubeConfig }> => {
    const { server, creds } = await openPool(store, deps.credentials, poolId);
    return { server, creds, kc: poolKubeConfig(server, creds, TIMEOUT_MS) };
  };
  const clients = async (poolId: string) => {
    const { kc, ...rest } = await load(poolId);
    return { ...rest, kc, core: kc.makeApiClient(CoreV1Api), objects: KubernetesObjectApi.makeApiClient(kc) };
  };

  const readNode = async (core: CoreV1Api, name: string, poolId: string): Promise<V1Node | undefined> => {
    try {
      return await core.readNode({ name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      return mapKubeError(err, `pool ${poolId}: read node ${name}`, { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true });
    }
  };

  const lookForNode = async (core: CoreV1Api, args: { pool: string; nodeName: string; tokenId: string }): Promise<NodeJoinCheck> => {
    try {
      const labelled = await core.listNode({ labelSelector: `${NODE_JOIN_LABELS.joinToken}=${args.tokenId}` });
      const others = labelled.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== args.nodeName);
      if (others.length > 0) return { state: 'misused', nodes: others.sort() };
    } catch (err) {
      mapKubeError(err, `pool ${args.pool}: list nodes`, { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true });
    }
    const node = await readNode(core, args.nodeName, args.pool);
    if (!node) return { state: 'waiting' };
    const arch = node.status?.nodeInfo?.architecture || node.metadata?.labels?.['kubernetes.io/arch'];
    return { state: 'registered', ready: isReady(node), ...(arch ? { arch } : {}) };
  };

  return {
    /**
     * Preflight: the pool exists and its last check was `ready`, and no Node of that name is registered in
     * it. Read-only. @throws `PoolNotReady`, `NodeNameTaken`
     */
    async preflightNodeJoin(args: { ticketId: string; vdc: VdcRef; node: NodeJoinSpec }): Promise<NodeJoinPreview> {
      const { pool, nodeName } = args.node;
      const rec = await store.pools.get(pool);
      if (!rec) throw ApplicationFailure.nonRetryable(`resource pool ${pool} does not exist`, NODE_JOIN_ERRORS.poolNotReady);
      if (rec.status !== 'ready')
        throw ApplicationFailure.nonRetryable(
          `resource pool ${pool} is ${rec.status}${rec.reason ? ` (${rec.reason})` : ''}, not ready`,
          NODE_JOIN_ERRORS.poolNotReady,
        );
      const { core } = await clients(pool);
      if (await readNode(core, nodeName, pool))
        throw ApplicationFailure.nonRetryable(`a node named ${nodeName} is already registered in pool ${pool}`, NODE_JOIN_ERRORS.nodeNameTaken);
      if (args.node.arch) {
        const arches = await poolArchitectures(core, pool, rec.version?.platform);
        if (arches.length > 0 && !arches.includes(args.node.arch)) {
          throw ApplicationFailure.nonRetryable(
            `arch: node architecture ${args.node.arch} does not match resource pool ${pool}'s architecture (${arches.join(', ')})`,
            NODE_ARCH_MISMATCH,
          );
        }
      }
      const labels = nodeJoinLabels(args.vdc, args.ticketId, args.node);
      return {
        hash: nodeJoinPreviewHash(args.node, labels),
        pool,
        nodeName,
        ...(args.node.arch ? { arch: args.node.arch } : {}),
        labels,
        taints: args.node.taints,
        tokenTtlMinutes: args.node.tokenTtlMinutes,
        checkedAt: new Date().toISOString(),
        cost: await pricing.edgeNode(pool, args.node.arch),
      };
    },

    /**
     * Issues the one-time bootstrap token of the ticket: generates it here, stores the join command sealed
     * (keyed by ticket, before anything is created, so a retry reuses the same token), then creates the
     * `bootstrap-token-<id>` Secret in kube-system with its expiry and the extra group naming the node.
     * Returns the token's public id and expiry only.
     */
    async issueJoinToken(args: { ticketId: string; vdc: VdcRef; node: NodeJoinSpec }): Promise<IssuedJoinToken> {
      const { pool, nodeName } = args.node;
      const c = cipher();
      const { server, creds, objects } = await clients(pool);
      const aad = joinCommandAad(args.ticketId);
      const tokenId = randomToken(6);
      const token = `${tokenId}.${randomToken(16)}`;
      const sealedJoin: SealedJoin = { token, command: joinCommand(server, token, tokenId, nodeName, creds.caData) };
      const rec = await joins.insertToken({
        _id: args.ticketId,
        tokenId,
        pool,
        vdcId: args.vdc.id,
        nodeName,
        expiresAt: new Date(Date.now() + args.node.tokenTtlMinutes * 60_000),
        sealed: c.seal(JSON.stringify(sealedJoin), aad),
        pendingIssue: true,
        createdAt: new Date(),
      });
      if (!rec.sealed || rec.revokedAt)
        throw ApplicationFailure.nonRetryable(`the join token of ticket ${args.ticketId} was already revoked`, NODE_JOIN_ERRORS.tokenMissing);
      const issued = JSON.parse(c.open(rec.sealed, aad)) as SealedJoin;
      const [id, secret] = issued.token.split('.') as [string, string];
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'bootstrap.kubernetes.io/token',
        metadata: {
          name: bootstrapSecretName(id),
          namespace: TOKEN_NAMESPACE,
          labels: { [NODE_JOIN_LABELS.ticket]: args.ticketId, [NODE_JOIN_LABELS.pool]: pool },
        },
        stringData: {
          description: `Edgeport join token for node ${nodeName} (ticket ${args.ticketId}, VDC ${args.vdc.id})`,
          'token-id': id,
          'token-secret': secret,
          expiration: rec.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'usage-bootstrap-authentication': 'true',
          'usage-bootstrap-signing': 'true',
          // The shared group may create CSRs (system:node-bootstrapper); the per-node one binds the token to its node.
          'auth-extra-groups': `${NODE_JOIN_BOOTSTRAP_GROUP},${joinTokenGroup(nodeName)}`,
        },
      };
      try {
        await objects.create(body as KubernetesObject);
      } catch (err) {
        // 409: a previous attempt created it (same name = same token id, which only this ticket's record holds).
        if (!(err instanceof ApiException && err.code === 409))
          mapKubeError(err, `pool ${pool}: create join token`, { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true });
      }
      // Only now may the requester fetch the command: before, the kube-apiserver would refuse the token.
      await joins.markIssued(args.ticketId);
      return { tokenId: id, expiresAt: rec.expiresAt.toISOString() };
    },

    /**
     * One look for the joining node: which Nodes carry this token's label, and whether the requested one is
     * registered and Ready. Read-only; the workflow polls it between durable sleeps (histories before the
     * `node-join-csr-review` patch; newer runs call {@link reviewNodeJoin}).
     */
    async checkNodeJoin(args: { pool: string; nodeName: string; tokenId: string }): Promise<NodeJoinCheck> {
      const { core } = await clients(args.pool);
      return lookForNode(core, args);
    },

    /**
     * One look with CSR review, as a kubelet joining with the ticket's token needs it: every
     * CertificateSigningRequest made with this token (`system:bootstrap:<tokenId>`) is judged by
     * {@link judgeJoinCsr}; a pending one bound to the ticket's node is approved (the csrsigning controller
     * then issues the `system:node:<name>` client certificate the kubelet registers its Node with), any
     * other is denied and the look answers `misused`. Then the node is looked for as {@link checkNodeJoin}
     * does. Idempotent: decided CSRs are judged again but not written.
     */
    async reviewNodeJoin(args: { ticketId: string; pool: string; nodeName: string; tokenId: string }): Promise<NodeJoinReview> {
      const { core, kc } = await clients(args.pool);
      const certs = kc.makeApiClient(CertificatesV1Api);
      const refused = { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true };
      const mine: V1CertificateSigningRequest[] = [];
      let cont: string | undefined;
      do {
        let page;
        try {
          page = await certs.listCertificateSigningRequest({ limit: 500, ...(cont ? { _continue: cont } : {}) });
        } catch (err) {
          return mapKubeError(err, `pool ${args.pool}: list certificate signing requests`, refused);
        }
        mine.push(...page.items.filter((c) => c.spec.username === bootstrapUser(args.tokenId)));
        cont = page.metadata?._continue || undefined;
      } while (cont);
      const approved: string[] = [];
      const misused = new Set<string>();
      for (const csr of mine.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
        const name = csr.metadata?.name ?? '';
        const verdict = judgeJoinCsr(csr, args);
        const decided = csrDecided(csr);
        if (!verdict.approve) misused.add(verdict.claimed);
        if (decided) continue;
        const condition = verdict.approve
          ? {
              type: 'Approved',
              status: 'True',
              reason: 'EdgeportNodeJoin',
              message: `Edgeport ticket ${args.ticketId}: node ${args.nodeName} joining with its one-time token ${args.tokenId}`,
            }
          : {
              type: 'Denied',
              status: 'True',
              reason: 'EdgeportJoinTokenMisused',
              message: `Edgeport ticket ${args.ticketId}: join token ${args.tokenId} is for node ${args.nodeName}: ${verdict.reason}`,
            };
        const body: V1CertificateSigningRequest = {
          ...csr,
          status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), { ...condition, lastUpdateTime: new Date() }] },
        };
        try {
          await certs.replaceCertificateSigningRequestApproval({ name, body });
        } catch (err) {
          // Gone (cleaned up or deleted by its requester): nothing to decide.
          if (isNotFound(err)) continue;
          mapKubeError(err, `pool ${args.pool}: ${verdict.approve ? 'approve' : 'deny'} certificate signing request ${name}`, refused);
        }
        if (verdict.approve) approved.push(name);
      }
      if (misused.size > 0) return { state: 'misused', nodes: [...misused].sort() };
      const seen = await lookForNode(core, args);
      return approved.length > 0 ? { ...seen, approvedCsrs: approved } : seen;
    },

    /** Server-side applies Edgeport's and the tenant's labels and the taints (own field manager, forced). */
    async labelJoinedNode(args: { ticketId: string; vdc: VdcRef; node: NodeJoinSpec }): Promise<{ labels: number; taints: number }> {
      const { objects } = await clients(args.node.pool);
      const labels = nodeJoinLabels(args.vdc, args.ticketId, args.node);
      const body = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: args.node.nodeName, labels },
        ...(args.node.taints.length > 0
          ? { spec: { taints: args.node.taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })) } }
          : {}),
      };
      try {
        await objects.patch(body, undefined, undefined, NODE_JOIN_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      } catch (err) {
        mapKubeError(err, `pool ${args.node.pool}: label node ${args.node.nodeName}`, {
          credentialsRefused: POOL_FAILURES.credentialsRefused,
          retryable: true,
        });
      }
      return { labels: Object.keys(labels).length, taints: args.node.taints.length };
    },

    /**
     * Compensation: removes what {@link labelJoinedNode} applied (an empty apply by the same manager drops its
     * fields), then deletes the Node object. Idempotent: a missing node is done.
     */
    async removeJoinedNode(args: { ticketId: string; node: NodeJoinSpec }): Promise<{ deleted: boolean }> {
      const { core, objects } = await clients(args.node.pool);
      const refused = { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true };
      try {
        await objects.patch(
          { apiVersion: 'v1', kind: 'Node', metadata: { name: args.node.nodeName } },
          undefined,
          undefined,
          NODE_JOIN_FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        );
      } catch (err) {
        if (isNotFound(err)) return { deleted: false };
        mapKubeError(err, `pool ${args.node.pool}: unlabel node ${args.node.nodeName}`, refused);
      }
      try {
        await core.deleteNode({ name: args.node.nodeName });
        return { deleted: true };
      } catch (err) {
        if (isNotFound(err)) return { deleted: false };
        return mapKubeError(err, `pool ${args.node.pool}: delete node ${args.node.nodeName}`, refused);
      }
    },

    /**
     * Revokes the ticket's token (found by ticket id, so it also works after a half-done issue): deletes its
     * Secret (404 = done) and drops the sealed copy. Idempotent; a ticket without a token is done.
     */
    async revokeJoinToken(args: { ticketId: string; pool: string }): Promise<{ tokenId?: string; deleted: boolean }> {
      const rec = await joins.getToken(args.ticketId);
      if (!rec) return { deleted: false };
      const { core } = await clients(args.pool);
      let deleted = true;
      try {
        await core.deleteNamespacedSecret({ name: bootstrapSecretName(rec.tokenId), namespace: TOKEN_NAMESPACE });
      } catch (err) {
        if (!isNotFound(err))
          mapKubeError(err, `pool ${args.pool}: delete join token`, { credentialsRefused: POOL_FAILURES.credentialsRefused, retryable: true });
        deleted = false;
      }
      await joins.revokeToken(args.ticketId);
      return { tokenId: rec.tokenId, deleted };
    },

    /** Records the joined node on its pool and VDC; the result (in history) is the ledger's `node.joined` fact. */
    async recordJoinedNode(args: { ticketId: string; vdc: VdcRef; node: NodeJoinSpec; arch?: string }): Promise<JoinedNodeRecord> {
      const existing = await joins.getNode(args.node.pool, args.node.nodeName);
      const joinedAt = existing?.ticketId === args.ticketId ? existing.joinedAt : new Date();
      const arch = args.arch ?? args.node.arch;
      await joins.recordNode({
        _id: `${args.node.pool}/${args.node.nodeName}`,
        pool: args.node.pool,
        nodeName: args.node.nodeName,
        vdcId: args.vdc.id,
        domainId: args.vdc.domainId,
        ticketId: args.ticketId,
        ...(arch ? { arch } : {}),
        joinedAt,
      });
      return {
        vdcId: args.vdc.id,
        domainId: args.vdc.domainId,
        pool: args.node.pool,
        nodeName: args.node.nodeName,
        ...(arch ? { arch } : {}),
        joinedAt: joinedAt.toISOString(),
      };
    },

    /** Compensation of {@link recordJoinedNode}: removes the record this ticket made. */
    async unrecordJoinedNode(args: { ticketId: string; node: NodeJoinSpec }): Promise<void> {
      await joins.removeNode(args.node.pool, args.node.nodeName, args.ticketId);
    },
  };
}
export type NodeJoinActivities = ReturnType<typeof createNodeJoinActivities>;
