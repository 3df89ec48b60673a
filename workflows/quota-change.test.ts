import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { cancelSignal, decideUpdate, DECISION_ERRORS, stateQuery, type QuotaChangeInput } from '../common/quota-change-workflow.ts';
import type { Quota } from '../common/tickets.ts';
import { decideQuotaChange } from '../policies/quota-change.ts';
import { namespaceOf, seedVdc } from '../stack/seed.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { quotaChangeWorkflow } from './quota-change.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

const requester = { sub: 'u-req', name: 'Requester' };
const admin = { sub: 'u-adm', name: 'Admin' };
const ops = { sub: 'u-ops', name: 'Ops' };
const current: Quota = { cpu: 4, memoryGi: 8, pods: 20 };

let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let workerRun: Promise<void>;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
  });
  taskQueue = uniqueName('wf-test');
  tw = await createTicketWorker({
    temporalAddress: 'unused',
    temporalNamespace: env.namespace ?? 'default',
    mongoUrl: stackEnv('EDGEPORT_MONGO_URL'),
    credentials: { key: stackEnv('EDGEPORT_CREDENTIALS_KEY'), previousKeys: [] },
    taskQueue,
    connection: env.nativeConnection,
    client: env.client,
    worker: testWorkerOptions(),
  });
  workerRun = tw.worker.run();
});

afterAll(async () => {
  tw?.worker.shutdown();
  await workerRun;
  await tw?.shutdown();
  await env?.teardown();
});

/** A fresh VDC (namespace + ResourceQuota on the real kube-apiserver) and a stored ticket for it. */
async function newTicket(requested: Quota, approvalTimeoutMs = 3_600_000): Promise<QuotaChangeInput> {
  const vdcId = uniqueName('wf');
  await seedVdc(tw.store, kube, { id: vdcId, name: vdcId, domainId: 'wf-domain', quota: current });
  const decision = decideQuotaChange({ current, requested });
  if (decision.outcome === 'deny') throw new Error('test setup: denied');
  const input: QuotaChangeInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc: { id: vdcId, name: vdcId, domainId: 'wf-domain', namespace: namespaceOf(vdcId), pool: 'local' },
    requested,
    policy: decision,
    approvalTimeoutMs,
  };
  await tw.store.tickets.insertOrGet({
    _id: input.ticketId,
    type: 'quota-change',
    status: 'submitted',
    requester,
    vdc: input.vdc,
    payload: { type: 'quota-change', vdcId, quota: requested },
    policy: decision,
    approvals: [],
    currentStep: null,
    approvalTimeoutMs,
  });
  return input;
}

const start = (input: QuotaChangeInput) => env.client.workflow.start(quotaChangeWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });

async function pending(handle: Awaited<ReturnType<typeof start>>): Promise<string> {
  for (;;) {
    const s = await handle.query(stateQuery);
    if (s.status === 'pending_approval' && s.preview) return s.preview.hash;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
    throw err;
  }
  return undefined;
}

describe('quotaChangeWorkflow', () => {
  it('approve: applies the ResourceQuota, writes one ledger line, completes', async () => {
    const input = await newTicket({ cpu: 6, pods: 30 });
    const handle = await start(input);
    const hash = await pending(handle);
    const state = await handle.executeUpdate(decideUpdate, {
      args: [{ actor: admin, actorRoles: ['vdc-admin'], decision: 'approve', comment: 'fine', previewHash: hash }],
    });
    expect(state.status).toBe('approved');
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const rq = await readQuota(kube, input.vdc.namespace);
    expect(rq.hard).toEqual({ cpu: 6, memoryGi: 8, pods: 30 });
    const lines = await tw.store.ledger.byWorkflow(input.ticketId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ fact: 'quota.allocation.changed', vdcId: input.vdc.id, quantities: { cpu: 6, memoryGi: 8, pods: 30 } });
    const ticket = await tw.store.tickets.get(input.ticketId);
    expect(ticket).toMatchObject({ status: 'completed', currentStep: null });
    expect(ticket?.approvals[0]).toMatchObject({ decision: 'approve', actor: admin, comment: 'fine' });
    expect((await tw.store.vdcs.get(input.vdc.id))?.quota).toEqual({ cpu: 6, memoryGi: 8, pods: 30 });
  });

  it('two-step chain needs the VDC admin then an operations admin', async () => {
    const input = await newTicket({ cpu: 40 });
    expect(input.policy.chain.map((s) => s.role)).toEqual(['vdc-admin', 'ops-admin']);
    const handle = await start(input);
    await pending(handle);
    expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ actor: ops, actorRoles: ['ops-admin'], decision: 'approve' }] }))).toBe(
      DECISION_ERRORS.notEligible,
    );
    const s1 = await handle.executeUpdate(decideUpdate, { args: [{ actor: admin, actorRoles: ['vdc-admin'], decision: 'approve' }] });
    expect(s1).toMatchObject({ status: 'pending_approval', currentStep: 1 });
    expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ actor: admin, actorRoles: ['vdc-admin', 'ops-admin'], decision: 'approve' }] }))).toBe(
      DECISION_ERRORS.notEligible,
    );
    await handle.executeUpdate(decideUpdate, { args: [{ actor: ops, actorRoles: ['ops-admin'], decision: 'approve' }] });
    const result = await handle.result();
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'completed' });
    expect((await readQuota(kube, input.vdc.namespace)).hard.cpu).toBe(40);
  });

  it('refuses self-approval, a stale preview and a decision on a decided ticket, changing nothing', async () => {
    const input = await newTicket({ cpu: 5 });
    const handle = await start(input);
    await pending(handle);
    expect(await refusal(handle.executeUpdate(decideUpdate, { args: [{ actor: requester, actorRoles: ['vdc-admin'], decision: 'approve' }] }))).toBe(
      DECISION_ERRORS.selfApproval,
    );
    expect(
      await refusal(handle.executeUpdate(decideUpdate, { args: [{ actor: admin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: 'stale' }] })),
    ).toBe(DECISION_ERRORS.stalePreview);
    expect((await handle.query(stateQuery)).approvals[0]?.decision).toBeUndefined();
    await handle.executeUpdate(decideUpdate, { args: [{ actor: admin, actorRoles: ['vdc-admin'], decision: 'reject', comment: 'no' }] });
    expect(
      await refusal(handle.executeUpdate(decideUpdate, { args: [{ actor: { sub: 'u-2', name: 'Second' }, actorRoles: ['vdc-admin'], decision: 'approve' }] })),
    ).toBe(DECISION_ERRORS.notPending);
    expect(await handle.result()).toMatchObject({ status: 'rejected' });
    expect((await readQuota(kube, input.vdc.namespace)).hard).toEqual(current);
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toHaveLength(0);
    expect((await tw.store.tickets.get(input.ticketId))?.approvals[0]).toMatchObject({ decision: 'reject', actor: admin });
  });

  it('rejects the ticket when an approval step is not decided in time at any escalation level (durable timers, time-skipped)', async () => {
    const input = await newTicket({ cpu: 5 }, 72 * 3_600_000);
    const handle = await start(input);
    const result = await handle.result();
    expect(result.status).toBe('rejected');
    expect(result.error).toMatch(/not decided within 1440 min/);
    expect((await readQuota(kube, input.vdc.namespace)).hard).toEqual(current);
  });

  it('cancel signal ends a pending ticket as cancelled without applying', async () => {
    const input = await newTicket({ pods: 22 });
    const handle = await start(input);
    await pending(handle);
    await handle.signal(cancelSignal, { actor: requester, reason: 'changed my mind' });
    expect(await handle.result()).toMatchObject({ status: 'cancelled', error: 'cancelled by Requester: changed my mind' });
    expect((await tw.store.tickets.get(input.ticketId))?.status).toBe('cancelled');
    expect((await readQuota(kube, input.vdc.namespace)).hard).toEqual(current);
  });

  it('auto-approves a pure decrease and applies it without a decision', async () => {
    const input = await newTicket({ cpu: 2 });
    expect(input.policy.outcome).toBe('auto-approve');
    expect(await (await start(input)).result()).toMatchObject({ status: 'completed' });
    expect((await readQuota(kube, input.vdc.namespace)).hard.cpu).toBe(2);
  });
});
