import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { QUOTA_NAME, readQuota } from '../infra/kube/quota.ts';
import { toResourceList } from '../infra/kube/quantity.ts';
import {
  cancelSignal,
  decideUpdate,
  DECISION_ERRORS,
  stateQuery,
  type DecideArgs,
  type QuotaChangeInput,
  type QuotaChangeState,
} from '../common/quota-change-workflow.ts';
import type { Quota } from '../common/tickets.ts';
import { renderTimeline } from '../api/services/timeline.ts';
import { DEFAULT_LEVEL_DEADLINE_MS, DEFAULT_REMIND_BEFORE_MS } from '../policies/approval-chain.ts';
import { decideQuotaChange } from '../policies/quota-change.ts';
import { namespaceOf, seedVdc } from '../stack/seed.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { quotaChangeWorkflow } from './quota-change.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Approval engine paths on the quota-change workflow (time-skipping server, real activities, real
 * kube-apiserver): SLA reminder and escalation, all-of steps, delegated decisions, cancel by an admin,
 * and re-approval when the cluster changed between approval and execution.
 * With EDGEPORT_RECORD_FIXTURES=1 the escalate and delegate histories are written to `__fixtures__/`.
 */

const requester = { sub: 'u-req', name: 'Requester' };
const vdcAdmin = { sub: 'u-vdca', name: 'VDC Admin' };
const domainAdmin = { sub: 'u-doma', name: 'Domain Admin' };
const ops = { sub: 'u-ops', name: 'Ops' };
const ops2 = { sub: 'u-ops2', name: 'Ops Two' };
const delegate = { sub: 'u-deleg', name: 'Delegate' };
const current: Quota = { cpu: 4, memoryGi: 8, pods: 20 };
const HOUR = 3_600_000;

let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let workerRun: Promise<void>;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
const adminKube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const recordFixtures = process.env.EDGEPORT_RECORD_FIXTURES === '1';

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
  });
  taskQueue = uniqueName('wf-appr');
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

async function newTicket(requested: Quota): Promise<QuotaChangeInput> {
  const vdcId = uniqueName('wfa');
  await seedVdc(tw.store, kube, { id: vdcId, name: vdcId, domainId: 'wf-domain', quota: current });
  const decision = decideQuotaChange({ current, requested });
  if (decision.outcome === 'deny') throw new Error('test setup: denied');
  const input: QuotaChangeInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc: { id: vdcId, name: vdcId, domainId: 'wf-domain', namespace: namespaceOf(vdcId), pool: 'local' },
    requested,
    policy: decision,
    approvalTimeoutMs: 72 * HOUR,
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
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
  return input;
}

const start = (input: QuotaChangeInput) => env.client.workflow.start(quotaChangeWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });
type Handle = Awaited<ReturnType<typeof start>>;

async function pending(handle: Handle): Promise<string> {
  for (;;) {
    const s = await handle.query(stateQuery);
    if (s.status === 'pending_approval' && s.preview) return s.preview.hash;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls the state query until `ok` holds (the timer's workflow task may still be in flight). */
async function stateWhen(handle: Handle, ok: (s: QuotaChangeState) => boolean): Promise<QuotaChangeState> {
  let s = (await handle.query(stateQuery)) as QuotaChangeState;
  for (let i = 0; i < 200 && !ok(s); i++) {
    await new Promise((r) => setTimeout(r, 50));
    s = (await handle.query(stateQuery)) as QuotaChangeState;
  }
  return s;
}

const decide = (handle: Handle, args: DecideArgs) => handle.executeUpdate(decideUpdate, { args: [args] });

async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
    throw err;
  }
  return undefined;
}

async function saveFixture(handle: Handle, name: string): Promise<void> {
  if (!recordFixtures) return;
  const history = await handle.fetchHistory();
  writeFileSync(join(import.meta.dirname, '__fixtures__', `${name}.json`), historyToJSON(history));
}

describe('approval SLA', () => {
  it('records a reminder before the deadline, escalates to the domain admin at it, and the domain admin decides', async () => {
    const input = await newTicket({ cpu: 5 });
    expect(input.policy.chain[0]?.sla).toMatchObject({ deadlineMs: DEFAULT_LEVEL_DEADLINE_MS, escalateTo: ['domain-admin', 'ops-admin'] });
    const handle = await start(input);
    await pending(handle);
    // The step's deadline is set by the workflow task after the one that shows pending_approval: wait for it.
    const first = (await stateWhen(handle, (s) => s.approvals[0]?.deadline !== undefined)).approvals[0];
    expect(first?.deadline).toBeDefined();

    await env.sleep(DEFAULT_LEVEL_DEADLINE_MS - DEFAULT_REMIND_BEFORE_MS + 60_000);
    const reminded = (await stateWhen(handle, (s) => (s.approvals[0]?.reminders?.length ?? 0) > 0)).approvals[0];
    expect(reminded?.reminders).toHaveLength(1);
    expect(reminded?.escalations).toBeUndefined();

    await env.sleep(DEFAULT_REMIND_BEFORE_MS);
    const escalated = (await stateWhen(handle, (s) => (s.approvals[0]?.escalations?.length ?? 0) > 0)).approvals[0];
    expect(escalated?.escalations).toEqual([expect.objectContaining({ from: ['vdc-admin'], to: ['domain-admin'] })]);
    expect(escalated?.roles).toEqual(['domain-admin']);
    expect(escalated?.deadline).not.toBe(first?.deadline);
    expect(await refusal(decide(handle, { actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve' }))).toBe(DECISION_ERRORS.notEligible);

    await decide(handle, { actor: domainAdmin, actorRoles: ['domain-admin'], decision: 'approve', comment: 'covering' });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const ticket = await tw.store.tickets.get(input.ticketId);
    expect(ticket?.approvals[0]).toMatchObject({ decision: 'approve', actor: domainAdmin, roles: ['domain-admin'], reminders: [expect.any(String)] });
    expect(ticket?.approvals[0]?.escalations).toHaveLength(1);
    expect((await readQuota(kube, input.vdc.namespace)).hard.cpu).toBe(5);

    const titles = renderTimeline((await handle.fetchHistory()).events ?? []).map((e) => e.title);
    expect(titles.some((t) => t.startsWith('Reminder: approval step 1'))).toBe(true);
    expect(titles.some((t) => t.includes('escalated to domain-admin'))).toBe(true);
    await saveFixture(handle, 'quota-change-escalated');
  });

  it('rejects when the last escalation level also times out', async () => {
    const input = await newTicket({ cpu: 5 });
    const handle = await start(input);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'rejected', error: 'approval step 1 not decided within 1440 min' });
    const ticket = await tw.store.tickets.get(input.ticketId);
    expect(ticket?.approvals[0]?.escalations?.map((e) => e.to)).toEqual([['domain-admin'], ['ops-admin']]);
    expect(ticket?.approvals[0]?.reminders).toHaveLength(3);
    expect((await readQuota(kube, input.vdc.namespace)).hard).toEqual(current);
  });
});

describe('approval chains', () => {
  it('all-of step: needs one approval per listed role, and a role approves only once', async () => {
    const input = await newTicket({ cpu: 300 });
    expect(input.policy.chain[1]).toMatchObject({ mode: 'all-of', roles: ['ops-admin', 'domain-admin'] });
    const handle = await start(input);
    await pending(handle);
    await decide(handle, { actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve' });
    const s1 = await decide(handle, { actor: ops, actorRoles: ['ops-admin'], decision: 'approve' });
    expect(s1).toMatchObject({ status: 'pending_approval', currentStep: 1 });
    expect(s1.approvals[1]?.votes).toEqual([expect.objectContaining({ role: 'ops-admin', actor: ops })]);
    expect(await refusal(decide(handle, { actor: ops2, actorRoles: ['ops-admin'], decision: 'approve' }))).toBe(DECISION_ERRORS.notEligible);
    const s2 = await decide(handle, { actor: domainAdmin, actorRoles: ['domain-admin'], decision: 'approve' });
    expect(s2.status).toBe('approved');
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const ticket = await tw.store.tickets.get(input.ticketId);
    expect(ticket?.approvals[1]?.votes?.map((v) => v.role)).toEqual(['ops-admin', 'domain-admin']);
    expect((await readQuota(kube, input.vdc.namespace)).hard.cpu).toBe(300);
  });

  it('a delegate decides on behalf of an eligible approver; the decision is recorded as such', async () => {
    const input = await newTicket({ cpu: 6 });
    const handle = await start(input);
    await pending(handle);
    expect(await refusal(decide(handle, { actor: delegate, actorRoles: ['vdc-user'], decision: 'approve' }))).toBe(DECISION_ERRORS.notEligible);
    expect(
      await refusal(decide(handle, { actor: delegate, actorRoles: [], decision: 'approve', onBehalfOf: { delegator: requester, roles: ['vdc-admin'] } })),
    ).toBe(DECISION_ERRORS.selfApproval);
    const s = await decide(handle, {
      actor: delegate,
      actorRoles: ['vdc-user'],
      decision: 'approve',
      comment: 'for VDC Admin',
      onBehalfOf: { delegator: vdcAdmin, roles: ['vdc-admin'] },
    });
    expect(s.status).toBe('approved');
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    expect((await tw.store.tickets.get(input.ticketId))?.approvals[0]).toMatchObject({ decision: 'approve', actor: delegate, onBehalfOf: vdcAdmin });
    const decisions = renderTimeline((await handle.fetchHistory()).events ?? []).filter((e) => e.kind === 'decision');
    expect(decisions).toEqual([expect.objectContaining({ title: 'Approved on behalf of VDC Admin', actor: 'Delegate' })]);
    await saveFixture(handle, 'quota-change-delegated');
  });

  it('the delegator and their delegate together decide at most one step', async () => {
    const input = await newTicket({ cpu: 40 });
    const handle = await start(input);
    await pending(handle);
    await decide(handle, { actor: delegate, actorRoles: [], decision: 'approve', onBehalfOf: { delegator: vdcAdmin, roles: ['vdc-admin', 'ops-admin'] } });
    expect(await refusal(decide(handle, { actor: vdcAdmin, actorRoles: ['ops-admin'], decision: 'approve' }))).toBe(DECISION_ERRORS.notEligible);
    await handle.signal(cancelSignal, { actor: ops, reason: 'admin cancel' });
    expect(await handle.result()).toMatchObject({ status: 'cancelled', error: 'cancelled by Ops: admin cancel' });
  });

  it('an admin cancels a pending, escalated ticket before execution', async () => {
    const input = await newTicket({ cpu: 5 });
    const handle = await start(input);
    await pending(handle);
    await env.sleep(DEFAULT_LEVEL_DEADLINE_MS + 60_000);
    expect((await stateWhen(handle, (s) => s.approvals[0]?.roles !== undefined)).approvals[0]?.roles).toEqual(['domain-admin']);
    await handle.signal(cancelSignal, { actor: vdcAdmin, reason: 'no longer needed' });
    expect(await handle.result()).toMatchObject({ status: 'cancelled', error: 'cancelled by VDC Admin: no longer needed' });
    expect((await tw.store.tickets.get(input.ticketId))?.status).toBe('cancelled');
    expect((await readQuota(kube, input.vdc.namespace)).hard).toEqual(current);
  });
});

describe('execution re-check', () => {
  it('a ResourceQuota edited out of band after approval sends the ticket back for approval with the new preview', async () => {
    const input = await newTicket({ cpu: 40 });
    const handle = await start(input);
    const firstHash = await pending(handle);
    await decide(handle, { actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: firstHash });

    // Between the two steps (deterministic): an operator edits the ResourceQuota directly.
    const rq = await adminKube.core.readNamespacedResourceQuota({ name: QUOTA_NAME, namespace: input.vdc.namespace });
    rq.spec = { ...rq.spec, hard: { ...rq.spec?.hard, ...toResourceList({ cpu: 7 }) } };
    await adminKube.core.replaceNamespacedResourceQuota({ name: QUOTA_NAME, namespace: input.vdc.namespace, body: rq });

    await decide(handle, { actor: ops, actorRoles: ['ops-admin'], decision: 'approve', previewHash: firstHash });
    const state = await stateWhen(handle, (s) => s.status === 'pending_approval' && !!s.approvalResets?.length);
    expect(state).toMatchObject({ status: 'pending_approval', currentStep: 0 });
    expect(state.preview?.hash).not.toBe(firstHash);
    expect(state.preview?.current.cpu).toBe(7);
    expect(state.approvals.every((a) => a.decision === undefined)).toBe(true);
    expect(state.approvalResets).toEqual([expect.objectContaining({ previousHash: firstHash, newHash: state.preview?.hash })]);
    expect(state.approvalResets?.[0]?.approvals.map((a) => a.decision)).toEqual(['approve', 'approve']);
    expect((await readQuota(kube, input.vdc.namespace)).hard.cpu).toBe(7);
    const stored = await tw.store.tickets.get(input.ticketId);
    expect(stored?.approvalResets).toHaveLength(1);

    expect(await refusal(decide(handle, { actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: firstHash }))).toBe(
      DECISION_ERRORS.stalePreview,
    );
    const newHash = state.preview?.hash;
    await decide(handle, { actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', ...(newHash ? { previewHash: newHash } : {}) });
    await decide(handle, { actor: ops, actorRoles: ['ops-admin'], decision: 'approve' });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    expect((await readQuota(kube, input.vdc.namespace)).hard.cpu).toBe(40);
    await saveFixture(handle, 'quota-change-reapproved');
  });
});
