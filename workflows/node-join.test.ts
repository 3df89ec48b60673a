import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ApiException, CertificatesV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapSecretName } from '../activities/node-join.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { joinTokenGroup, NODE_JOIN_BOOTSTRAP_GROUP, NODE_JOIN_LABELS, type NodeJoinInput } from '../common/node-join-workflow.ts';
import { decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import type { NodeJoinRequest } from '../common/tickets.ts';
import { decideNodeJoin } from '../policies/node-join.ts';
import {
  clusterOfKubeconfig,
  KubeletJoinError,
  parseJoinCommand,
  registerNodeWithToken,
  runJoinCommand,
  untilTokenRefused,
  whoIsToken,
} from '../stack/testing/edge-kubelet.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { credentialCipher } from '../store/credentials.ts';
import { joinCommandAad, type NodeJoinStore } from '../store/node-joins.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { nodeJoinWorkflow } from './node-join.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Edge node join on the real stack: the worker acts on pool `edge-1` (the stack's second control plane)
 * through its sealed credentials. The joining node is a kubelet's TLS bootstrap done by the test
 * (stack/testing/edge-kubelet.ts) with the join command's token against edge-1's real kube-apiserver:
 * bootstrap identity → CSR → approved by the workflow's review → Node registered with the issued
 * certificate; kwok then plays the node. Time skipping runs only while the test awaits a result, so the
 * token is fetched and the node joins in real time.
 */

const logs: string[] = [];
let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let joins: NodeJoinStore;
let taskQueue: string;
let run: Promise<void>;
const POOL = 'edge-1';
const admin = createKubeClients(stackEnv('EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG'));
const adminKc = new KubeConfig();
adminKc.loadFromFile(stackEnv('EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG'));
const certs = adminKc.makeApiClient(CertificatesV1Api);
const edge1 = clusterOfKubeconfig(stackEnv('EDGEPORT_EDGE1_KUBECONFIG'));
const cipher = credentialCipher(stackEnv('EDGEPORT_CREDENTIALS_KEY'));
const domainId = 'join-domain';
const requester = { sub: uniqueName('u-req'), name: 'Edge Requester' };
const opsAdmin = { sub: uniqueName('u-ops'), name: 'Ops Admin' };
const createdNodes: string[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('DEBUG', (e) => logs.push(`${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}`)) });
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
  });
  taskQueue = uniqueName('join-wf');
  tw = await createTicketWorker({
    temporalAddress: 'unused',
    temporalNamespace: env.namespace ?? 'default',
    mongoUrl: stackEnv('EDGEPORT_MONGO_URL'),
    credentials: { key: stackEnv('EDGEPORT_CREDENTIALS_KEY'), previousKeys: [] },
    connection: env.nativeConnection,
    client: env.client,
    taskQueue,
    worker: testWorkerOptions(),
  });
  joins = tw.store.nodeJoins;
  run = tw.worker.run();
});

afterAll(async () => {
  await Promise.all(createdNodes.map((name) => admin.core.deleteNode({ name }).catch(() => undefined)));
  tw?.worker.shutdown();
  await run;
  await tw?.shutdown();
  await env?.teardown();
});

async function newTicket(over: Partial<NodeJoinRequest> = {}): Promise<NodeJoinInput> {
  const vdcId = uniqueName('nj');
  const body: NodeJoinRequest = { type: 'node-join', vdcId, pool: POOL, nodeName: uniqueName('edge-join'), tokenTtlMinutes: 30, ...over };
  const decision = decideNodeJoin({
    pool: body.pool,
    nodeName: body.nodeName,
    taints: body.taints ?? [],
    tokenTtlMinutes: body.tokenTtlMinutes,
    vdcPools: [POOL],
    requesterRoles: ['vdc-admin'],
  });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const vdc = { id: vdcId, name: vdcId, domainId, namespace: `vdc-${vdcId}`, pool: POOL };
  const input: NodeJoinInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc,
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    node: {
      pool: body.pool,
      nodeName: body.nodeName,
      ...(body.arch ? { arch: body.arch } : {}),
      labels: body.labels ?? {},
      taints: body.taints ?? [],
      tokenTtlMinutes: body.tokenTtlMinutes,
    },
  };
  await tw.store.tickets.insertOrGet({
    _id: input.ticketId,
    type: 'node-join',
    status: 'submitted',
    requester,
    vdc,
    payload: body,
    policy: decision,
    approvals: [],
    currentStep: null,
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
  return input;
}

const start = (input: NodeJoinInput) => env.client.workflow.start(nodeJoinWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });

async function approve(handle: Awaited<ReturnType<typeof start>>): Promise<void> {
  for (;;) {
    const s = await handle.query(stateQuery);
    if (s.status === 'pending_approval' && s.preview) {
      // The SLA chain in approval.ts projects the step deadline before it waits for a decision; a decision
      // arriving during that projection is not seen until the deadline (reported to the lead), so wait for it.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && !(await tw.store.tickets.get(handle.workflowId))?.approvals[0]?.deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      await handle.executeUpdate(decideUpdate, { args: [{ actor: opsAdmin, actorRoles: ['ops-admin'], decision: 'approve', previewHash: s.preview.hash }] });
      return;
    }
    if (s.status !== 'submitted') throw new Error(`ticket is ${s.status}: ${s.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits (real time) for the token the workflow issued; returns the join command as the API hands it out. */
async function fetchJoinCommand(ticketId: string): Promise<{ tokenId: string; token: string; command: string }> {
  for (let i = 0; i < 200; i++) {
    const claim = await joins.claimFetch(ticketId, requester.sub);
    if (claim.outcome === 'ok') {
      const sealed = JSON.parse(cipher.open(claim.record.sealed, joinCommandAad(ticketId))) as { token: string; command: string };
      return { tokenId: claim.record.tokenId, token: sealed.token, command: sealed.command };
    }
    if (claim.outcome !== 'none') throw new Error(`join command ${claim.outcome}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const desc = await env.client.workflow.getHandle(ticketId).describe();
  const pending = desc.raw.pendingActivities?.map((a) => `${a.activityType?.name}: attempt ${a.attempt}, ${a.lastFailure?.message ?? ''}`);
  throw new Error(
    `no join token issued (${desc.status.name}; pending ${JSON.stringify(pending)}; logs: ${logs
      .filter((l) => /fail|error/i.test(l))
      .slice(-3)
      .join(' | ')})`,
  );
}

/** Runs the join command as the edge server's kubelet would (kwok plays the node once registered). */
async function kubeletJoin(command: string, over: { nodeName?: string; kwok?: boolean } = {}) {
  const name = over.nodeName ?? parseJoinCommand(command).nodeName;
  createdNodes.push(name);
  return runJoinCommand(command, { caData: edge1.caData, arch: 'arm64', ...over });
}

/** The CSRs a token made, as the cluster has them. */
async function csrsOf(tokenId: string) {
  return (await certs.listCertificateSigningRequest()).items.filter((c) => c.spec.username === `system:bootstrap:${tokenId}`);
}

async function secretExists(tokenId: string): Promise<boolean> {
  try {
    await admin.core.readNamespacedSecret({ name: bootstrapSecretName(tokenId), namespace: 'kube-system' });
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    throw err;
  }
}

async function nodeExists(name: string): Promise<boolean> {
  try {
    await admin.core.readNode({ name });
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    throw err;
  }
}

/** The workflow's whole history, decoded, and (with EDGEPORT_RECORD_FIXTURES=1) saved as a replay fixture. */
async function historyText(ticketId: string, fixture: string): Promise<string> {
  const history = await env.client.workflow.getHandle(ticketId).fetchHistory();
  const json = historyToJSON(history);
  if (process.env.EDGEPORT_RECORD_FIXTURES === '1') writeFileSync(join(import.meta.dirname, '__fixtures__', `${fixture}.json`), json);
  const payloads = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1] as string, 'base64').toString('utf8'));
  return `${json}\n${payloads.join('\n')}`;
}

/** Asserts the token's secret appears in none of: the ticket document, the decoded history, the logs. */
async function expectTokenNowhere(ticketId: string, token: string, fixture: string): Promise<void> {
  const secret = token.split('.')[1] as string;
  expect(secret).toMatch(/^[a-z0-9]{16}$/);
  const ticket = await tw.store.tickets.get(ticketId);
  expect(JSON.stringify(ticket)).not.toContain(secret);
  const history = await historyText(ticketId, fixture);
  expect(history).toContain(ticketId);
  expect(history).not.toContain(secret);
  expect(logs.length).toBeGreaterThan(0);
  expect(logs.join('\n')).not.toContain(secret);
}

describe('nodeJoinWorkflow', () => {
  it('approved join with the token itself: CSR approved for this node only, Node registered by its own certificate, labelled and tainted, token revoked (second use 401), recorded, ledger node.joined', async () => {
    const input = await newTicket({
      arch: 'arm64',
      labels: { site: 'shop-17' },
      taints: [{ key: 'edge.example.com/site', value: 'shop-17', effect: 'NoSchedule' }],
    });
    const { nodeName } = input.node;
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token, command } = await fetchJoinCommand(input.ticketId);
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(command).toContain(`--token ${token}`);
    expect(command).toContain(`--node-name ${nodeName}`);
    expect(command).toContain(`--node-labels=${NODE_JOIN_LABELS.joinToken}=${tokenId}`);
    expect(command).toMatch(/--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}/);
    expect(`https://${parseJoinCommand(command).endpoint}`).toBe(edge1.server);
    // Handed out once.
    expect((await joins.claimFetch(input.ticketId, requester.sub)).outcome).toBe('fetched');

    const secret = await admin.core.readNamespacedSecret({ name: bootstrapSecretName(tokenId), namespace: 'kube-system' });
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(data).toMatchObject({
      'token-id': tokenId,
      'usage-bootstrap-authentication': 'true',
      'auth-extra-groups': `${NODE_JOIN_BOOTSTRAP_GROUP},${joinTokenGroup(nodeName)}`,
    });
    const expiresIn = new Date(data.expiration as string).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(28 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);

    // The token authenticates as its bootstrap identity, bound to the node by its group; alone it cannot register a Node.
    expect(await whoIsToken(edge1.server, edge1.caData, token)).toEqual({
      status: 201,
      username: `system:bootstrap:${tokenId}`,
      groups: expect.arrayContaining(['system:bootstrappers', NODE_JOIN_BOOTSTRAP_GROUP, joinTokenGroup(nodeName), 'system:authenticated']),
    });
    expect(await registerNodeWithToken({ server: edge1.server, caData: edge1.caData, token, nodeName, arch: 'arm64' })).toBe(403);

    const joined = await kubeletJoin(command);
    expect(new X509Certificate(joined.certificate).subject).toBe(`O=system:nodes\nCN=system:node:${nodeName}`);
    const [csr] = await csrsOf(tokenId);
    expect(csr?.metadata?.name).toBe(joined.csrName);
    expect(csr?.status?.conditions).toEqual([expect.objectContaining({ type: 'Approved', status: 'True', reason: 'EdgeportNodeJoin' })]);
    expect(csr?.spec.groups).toContain(joinTokenGroup(nodeName));

    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', tokenId, steps: ['token', 'wait-ready', 'label', 'revoke-token', 'record', 'ledger'] });

    const node = await admin.core.readNode({ name: nodeName });
    expect(node.metadata?.labels).toMatchObject({
      [NODE_JOIN_LABELS.vdc]: input.vdc.id,
      [NODE_JOIN_LABELS.pool]: POOL,
      [NODE_JOIN_LABELS.ticket]: input.ticketId,
      [NODE_JOIN_LABELS.joinToken]: tokenId,
      site: 'shop-17',
      'kubernetes.io/arch': 'arm64',
    });
    expect(node.spec?.taints).toEqual(expect.arrayContaining([{ key: 'edge.example.com/site', value: 'shop-17', effect: 'NoSchedule' }]));
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(await secretExists(tokenId)).toBe(false);
    // One-time: the token is gone, a second join with it is refused at authentication.
    expect(await untilTokenRefused(edge1.server, edge1.caData, token)).toBe(401);
    await expect(kubeletJoin(command, { nodeName: `${nodeName}-again` })).rejects.toMatchObject({ name: 'KubeletJoinError', step: 'csr-create', status: 401 });
    const rec = await joins.getToken(input.ticketId);
    expect(rec?.revokedAt).toBeInstanceOf(Date);
    expect(rec?.sealed).toBeUndefined();
    expect(await joins.getNode(POOL, nodeName)).toMatchObject({ vdcId: input.vdc.id, ticketId: input.ticketId, arch: 'arm64' });
    const lines = await tw.store.ledger.byWorkflow(input.ticketId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      fact: 'node.joined',
      vdcId: input.vdc.id,
      pool: POOL,
      subject: nodeName,
      quantities: { nodes: 1 },
      units: { nodes: 'node' },
    });
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'completed', preview: { nodeName, pool: POOL } });
    await expectTokenNowhere(input.ticketId, token, 'node-join-csr-approved');
  });

  it('the token used for another node name: its CSR is denied, no node joins, token revoked, ticket failed as misused', async () => {
    const input = await newTicket();
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token, command } = await fetchJoinCommand(input.ticketId);
    const impostor = `${input.node.nodeName}-x`;
    const refused = await kubeletJoin(command, { nodeName: impostor }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeletJoinError);
    expect(refused).toMatchObject({
      step: 'csr-denied',
      message: expect.stringContaining(`common name system:node:${impostor}, not system:node:${input.node.nodeName}`),
    });
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.error).toBe(`join token ${tokenId} was used by node ${impostor}, not ${input.node.nodeName}: refused, token revoked`);
    const [csr] = await csrsOf(tokenId);
    expect(csr?.status?.conditions).toEqual([expect.objectContaining({ type: 'Denied', status: 'True', reason: 'EdgeportJoinTokenMisused' })]);
    expect(csr?.status?.certificate).toBeUndefined();
    expect(await nodeExists(impostor)).toBe(false);
    expect(await nodeExists(input.node.nodeName)).toBe(false);
    expect(await secretExists(tokenId)).toBe(false);
    expect(await untilTokenRefused(edge1.server, edge1.caData, token)).toBe(401);
    expect((await joins.getToken(input.ticketId))?.revokedAt).toBeInstanceOf(Date);
    expect(await joins.getNode(POOL, impostor)).toBeNull();
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toEqual([]);
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'failed', error: result.error });
    await expectTokenNowhere(input.ticketId, token, 'node-join-csr-refused');
  });

  it('an expired token is refused by the kube-apiserver; no node before expiry: token deleted, ticket failed (time skipping)', async () => {
    const input = await newTicket({ tokenTtlMinutes: 5 });
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token, command } = await fetchJoinCommand(input.ticketId);
    expect(await secretExists(tokenId)).toBe(true);
    // The TTL passing, as the kube-apiserver sees it: the Secret's own expiration (what Edgeport wrote) in the past.
    await admin.core.patchNamespacedSecret(
      {
        name: bootstrapSecretName(tokenId),
        namespace: 'kube-system',
        body: { stringData: { expiration: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z') } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect((await whoIsToken(edge1.server, edge1.caData, token)).status).toBe(401);
    await expect(kubeletJoin(command)).rejects.toMatchObject({ step: 'csr-create', status: 401 });
    expect(await nodeExists(input.node.nodeName)).toBe(false);
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'failed',
      error: `no node ${input.node.nodeName} registered before the join token expired`,
      steps: ['token', 'compensated: revoke token'],
    });
    expect(await secretExists(tokenId)).toBe(false);
    expect((await joins.getToken(input.ticketId))?.sealed).toBeUndefined();
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'failed' });
    await expectTokenNowhere(input.ticketId, token, 'node-join-csr-expired');
  });

  it('node registered with its certificate but never Ready before expiry: compensated — Node deleted, token revoked, nothing recorded', async () => {
    const input = await newTicket({ tokenTtlMinutes: 5 });
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token, command } = await fetchJoinCommand(input.ticketId);
    await kubeletJoin(command, { kwok: false });
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'compensated',
      error: `node ${input.node.nodeName} registered but was not Ready before the join token expired`,
      steps: ['token', 'compensated: remove node', 'compensated: revoke token'],
    });
    expect(await nodeExists(input.node.nodeName)).toBe(false);
    expect(await secretExists(tokenId)).toBe(false);
    expect(await joins.getNode(POOL, input.node.nodeName)).toBeNull();
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toEqual([]);
    await expectTokenNowhere(input.ticketId, token, 'node-join-csr-compensated');
  });

  it('preflight: a node name already registered fails the ticket before any token exists', async () => {
    const input = await newTicket({ nodeName: 'edge-1-arm64-1' });
    const result = await (await start(input)).result();
    expect(result).toMatchObject({ status: 'failed', error: `preflight: a node named edge-1-arm64-1 is already registered in pool ${POOL}` });
    expect(await joins.getToken(input.ticketId)).toBeNull();
  });
});
