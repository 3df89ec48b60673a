import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, type V1Node } from '@kubernetes/client-node';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapSecretName } from '../activities/node-join.ts';
import { createKubeClients } from '../activities/kube/client.ts';
import { joinTokenGroup, NODE_JOIN_LABELS, type NodeJoinInput } from '../common/node-join-workflow.ts';
import { decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import type { NodeJoinRequest } from '../common/tickets.ts';
import { decideNodeJoin } from '../policies/node-join.ts';
import { KWOK_NODE_ANNOTATION } from '../stack/servers/kube/kwok-config.ts';
import { KUBE_VERSIONS } from '../stack/servers/kube/layout.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { credentialCipher } from '../store/credentials.ts';
import { joinCommandAad, nodeJoinStore, type NodeJoinStore } from '../store/node-joins.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { nodeJoinWorkflow } from './node-join.ts';

/**
 * Edge node join on the real stack: the worker acts on pool `local` (the seeded local cluster) through its
 * sealed credentials; kwok plays the joining node (the test creates the Node with kwok's annotation and
 * the join label, as the join command would make the kubelet do). Time skipping runs only while the test
 * awaits a result, so the token is fetched and the node created in real time.
 */

const logs: string[] = [];
let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let joins: NodeJoinStore;
let taskQueue: string;
let run: Promise<void>;
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
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
  });
  joins = nodeJoinStore(tw.store.conn);
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
  const body: NodeJoinRequest = { type: 'node-join', vdcId, pool: 'local', nodeName: uniqueName('edge-join'), tokenTtlMinutes: 30, ...over };
  const decision = decideNodeJoin({ pool: body.pool, nodeName: body.nodeName, taints: body.taints ?? [], tokenTtlMinutes: body.tokenTtlMinutes, vdcPools: ['local'], requesterRoles: ['vdc-admin'] });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const vdc = { id: vdcId, name: vdcId, domainId, namespace: `vdc-${vdcId}`, pool: 'local' };
  const input: NodeJoinInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc,
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    node: { pool: body.pool, nodeName: body.nodeName, ...(body.arch ? { arch: body.arch } : {}), labels: body.labels ?? {}, taints: body.taints ?? [], tokenTtlMinutes: body.tokenTtlMinutes },
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
  throw new Error(`no join token issued (${desc.status.name}; pending ${JSON.stringify(pending)}; logs: ${logs.filter((l) => /fail|error/i.test(l)).slice(-3).join(' | ')})`);
}

/** The Node a kubelet running the join command would register: kwok plays it (and makes it Ready). */
async function registerNode(name: string, tokenId: string): Promise<void> {
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, type: 'kwok', [NODE_JOIN_LABELS.joinToken]: tokenId },
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      nodeInfo: {
        architecture: 'arm64',
        operatingSystem: 'linux',
        kubeletVersion: KUBE_VERSIONS.kube,
        osImage: 'Edgeport test edge node (kwok)',
        bootID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        kubeProxyVersion: '',
        machineID: '',
        systemUUID: '',
      },
    },
  };
  createdNodes.push(name);
  await admin.core.createNode({ body: node });
  for (let i = 0; i < 300; i++) {
    const n = await admin.core.readNode({ name });
    if (n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kwok did not make node ${name} Ready`);
}

/** A Node no kubelet (nor kwok) runs: it registers but never becomes Ready. */
async function registerDeadNode(name: string, tokenId: string): Promise<void> {
  createdNodes.push(name);
  await admin.core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, [NODE_JOIN_LABELS.joinToken]: tokenId } } } });
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
  it('approved join: token bound to the node, node Ready, labelled and tainted, token revoked, recorded, ledger node.joined', async () => {
    const input = await newTicket({ arch: 'arm64', labels: { site: 'shop-17' }, taints: [{ key: 'edge.example.com/site', value: 'shop-17', effect: 'NoSchedule' }] });
    const { nodeName } = input.node;
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token, command } = await fetchJoinCommand(input.ticketId);
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(command).toContain(`--token ${token}`);
    expect(command).toContain(`--node-name ${nodeName}`);
    expect(command).toContain(`--node-labels=${NODE_JOIN_LABELS.joinToken}=${tokenId}`);
    expect(command).toMatch(/--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}/);
    // Handed out once.
    expect((await joins.claimFetch(input.ticketId, requester.sub)).outcome).toBe('fetched');

    const secret = await admin.core.readNamespacedSecret({ name: bootstrapSecretName(tokenId), namespace: 'kube-system' });
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(data).toMatchObject({ 'token-id': tokenId, 'usage-bootstrap-authentication': 'true', 'auth-extra-groups': joinTokenGroup(nodeName) });
    const expiresIn = new Date(data.expiration as string).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(28 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);

    await registerNode(nodeName, tokenId);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', tokenId, steps: ['token', 'wait-ready', 'label', 'revoke-token', 'record', 'ledger'] });

    const node = await admin.core.readNode({ name: nodeName });
    expect(node.metadata?.labels).toMatchObject({ [NODE_JOIN_LABELS.vdc]: input.vdc.id, [NODE_JOIN_LABELS.pool]: 'local', [NODE_JOIN_LABELS.ticket]: input.ticketId, site: 'shop-17' });
    expect(node.spec?.taints).toEqual(expect.arrayContaining([{ key: 'edge.example.com/site', value: 'shop-17', effect: 'NoSchedule' }]));
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(await secretExists(tokenId)).toBe(false);
    const rec = await joins.getToken(input.ticketId);
    expect(rec?.revokedAt).toBeInstanceOf(Date);
    expect(rec?.sealed).toBeUndefined();
    expect(await joins.getNode('local', nodeName)).toMatchObject({ vdcId: input.vdc.id, ticketId: input.ticketId, arch: 'arm64' });
    const lines = await tw.store.ledger.byWorkflow(input.ticketId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ fact: 'node.joined', vdcId: input.vdc.id, pool: 'local', subject: nodeName, quantities: { nodes: 1 }, units: { nodes: 'node' } });
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'completed', preview: { nodeName, pool: 'local' } });
    await expectTokenNowhere(input.ticketId, token, 'node-join-approved');
  });

  it('a node of another name registering with the token is refused: token revoked, ticket failed', async () => {
    const input = await newTicket();
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token } = await fetchJoinCommand(input.ticketId);
    const impostor = `${input.node.nodeName}-x`;
    await registerNode(impostor, tokenId);
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.error).toBe(`join token ${tokenId} was used by node ${impostor}, not ${input.node.nodeName}: refused, token revoked`);
    expect(await secretExists(tokenId)).toBe(false);
    expect((await joins.getToken(input.ticketId))?.revokedAt).toBeInstanceOf(Date);
    expect(await nodeExists(input.node.nodeName)).toBe(false);
    expect(await joins.getNode('local', impostor)).toBeNull();
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toEqual([]);
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'failed', error: result.error });
    await expectTokenNowhere(input.ticketId, token, 'node-join-refused');
  });

  it('no node before the token expires: token deleted, ticket failed (time skipping)', async () => {
    const input = await newTicket({ tokenTtlMinutes: 5 });
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token } = await fetchJoinCommand(input.ticketId);
    expect(await secretExists(tokenId)).toBe(true);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'failed', error: `no node ${input.node.nodeName} registered before the join token expired`, steps: ['token', 'compensated: revoke token'] });
    expect(await secretExists(tokenId)).toBe(false);
    expect((await joins.getToken(input.ticketId))?.sealed).toBeUndefined();
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'failed' });
    await expectTokenNowhere(input.ticketId, token, 'node-join-expired');
  });

  it('node registered but never Ready before expiry: compensated — Node deleted, token revoked, nothing recorded', async () => {
    const input = await newTicket({ tokenTtlMinutes: 5 });
    const handle = await start(input);
    await approve(handle);
    const { tokenId, token } = await fetchJoinCommand(input.ticketId);
    await registerDeadNode(input.node.nodeName, tokenId);
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'compensated',
      error: `node ${input.node.nodeName} registered but was not Ready before the join token expired`,
      steps: ['token', 'compensated: remove node', 'compensated: revoke token'],
    });
    expect(await nodeExists(input.node.nodeName)).toBe(false);
    expect(await secretExists(tokenId)).toBe(false);
    expect(await joins.getNode('local', input.node.nodeName)).toBeNull();
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toEqual([]);
    await expectTokenNowhere(input.ticketId, token, 'node-join-compensated');
  });

  it('preflight: a node name already registered fails the ticket before any token exists', async () => {
    const input = await newTicket({ nodeName: 'edge-amd64-1' });
    const result = await (await start(input)).result();
    expect(result).toMatchObject({ status: 'failed', error: 'preflight: a node named edge-amd64-1 is already registered in pool local' });
    expect(await joins.getToken(input.ticketId)).toBeNull();
  });
});
