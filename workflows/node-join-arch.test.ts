import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeJoinInput } from '../common/node-join-workflow.ts';
import { cancelSignal, stateQuery } from '../common/ticket-workflow.ts';
import type { NodeJoinPreview, NodeJoinRequest } from '../common/tickets.ts';
import { decideNodeJoin } from '../policies/node-join.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { nodeJoinWorkflow } from './node-join.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Node-join preflight against the real local pool (time-skipping env, real activities): a requested
 * architecture the pool does not run is refused naming the field, a matching one is previewed with its
 * monthly cost under the price book in force; a requester cancels while the ticket awaits approval.
 * With EDGEPORT_RECORD_FIXTURES=1 the histories are written to `__fixtures__/` (arch refusal, cancel).
 */
let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let run: Promise<void>;
const requester = { sub: uniqueName('u-req'), name: 'Edge Requester' };

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
  });
  taskQueue = uniqueName('join-arch');
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
  run = tw.worker.run();
});

afterAll(async () => {
  tw?.worker.shutdown();
  await run;
  await tw?.shutdown();
  await env?.teardown();
});

function newTicket(over: Partial<NodeJoinRequest> = {}): NodeJoinInput {
  const vdcId = uniqueName('nja');
  const body: NodeJoinRequest = { type: 'node-join', vdcId, pool: 'local', nodeName: uniqueName('edge-arch'), tokenTtlMinutes: 30, ...over };
  const decision = decideNodeJoin({
    pool: body.pool,
    nodeName: body.nodeName,
    taints: [],
    tokenTtlMinutes: body.tokenTtlMinutes,
    vdcPools: ['local'],
    requesterRoles: ['vdc-admin'],
  });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  return {
    ticketId: uniqueName('tkt'),
    requester,
    vdc: { id: vdcId, name: vdcId, domainId: 'join-domain', namespace: `vdc-${vdcId}`, pool: 'local' },
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    node: {
      pool: body.pool,
      nodeName: body.nodeName,
      ...(body.arch ? { arch: body.arch } : {}),
      labels: {},
      taints: [],
      tokenTtlMinutes: body.tokenTtlMinutes,
    },
  };
}

const start = (input: NodeJoinInput) => env.client.workflow.start(nodeJoinWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });

async function record(ticketId: string, fixture: string): Promise<void> {
  if (process.env.EDGEPORT_RECORD_FIXTURES !== '1') return;
  const history = await env.client.workflow.getHandle(ticketId).fetchHistory();
  writeFileSync(join(import.meta.dirname, '__fixtures__', `${fixture}.json`), historyToJSON(history));
}

describe('node-join preflight: architecture and cost', () => {
  it('refuses an architecture the pool does not run, naming the field; no token issued', async () => {
    const input = newTicket({ arch: 'riscv64' });
    const result = await (await start(input)).result();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(
      /^preflight: arch: node architecture riscv64 does not match resource pool local's architecture \((.+, )?amd64, arm64(, .+)?\)$/,
    );
    expect(result).not.toHaveProperty('tokenId');
    await record(input.ticketId, 'node-join-arch-refused');
  });

  it('a matching architecture is previewed with its monthly cost; the requester cancels before approval', async () => {
    const input = newTicket({ arch: 'arm64' });
    const handle = await start(input);
    let preview: NodeJoinPreview | undefined;
    for (let i = 0; i < 600 && !preview; i++) {
      const s = await handle.query(stateQuery);
      if (s.status === 'pending_approval' && s.preview) preview = s.preview as NodeJoinPreview;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(preview).toMatchObject({ arch: 'arm64', cost: { lines: [{ resource: 'edgeNode', unit: 'node-hour', current: '0.000000', proposed: '1.000000' }] } });
    expect(preview?.cost?.month).toBe(new Date().toISOString().slice(0, 7));
    await handle.signal(cancelSignal, { actor: requester, reason: 'wrong site' });
    expect(await handle.result()).toMatchObject({ status: 'cancelled', error: 'cancelled by Edge Requester: wrong site' });
    await record(input.ticketId, 'node-join-cancelled');
  });
});
