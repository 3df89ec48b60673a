import { PatchStrategy } from '@kubernetes/client-node';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients, FIELD_MANAGER } from '../infra/kube/client.ts';
import { applyQuota as applyResourceQuota, readQuota } from '../infra/kube/quota.ts';
import type { ApplyQuotaResult } from '../activities/ledger/quota.ts';
import { ledgerLinesFromHistory } from '../activities/ledger/index.ts';
import { createQuotaActivities, sumQuotas } from '../activities/quota-change.ts';
import { leaseQuery, netOfLeases, type QuotaLeaseInput } from '../common/quota-lease-workflow.ts';
import type { QuotaChangeInput } from '../common/quota-change-workflow.ts';
import { cancelSignal, decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import { spaceNamespace, type Quota } from '../common/tickets.ts';
import { decideQuotaChange } from '../policies/quota-change.ts';
import { decideQuotaLease } from '../policies/quota-lease.ts';
import { namespaceOf, seedVdc } from '../stack/seed.ts';
import { stackEnv, testPoolClients, uniqueName } from '../stack/testing/env.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { quotaChangeWorkflow } from './quota-change.ts';
import { quotaLeaseWorkflow } from './quota-lease.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

const requester = { sub: 'u-req', name: 'Requester' };
const admin = { sub: 'u-adm', name: 'Admin' };
const ops = { sub: 'u-ops', name: 'Ops' };
const base: Quota = { cpu: 4, memoryGi: 8, pods: 20 };
const H = 3_600_000;

let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let workerRun: Promise<void>;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
  });
  taskQueue = uniqueName('lease-test');
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

/** A fresh VDC with one application space: two namespaces, each with the VDC's ResourceQuota. */
async function newVdc(): Promise<{ id: string; namespaces: string[]; vdc: QuotaLeaseInput['vdc'] }> {
  const id = uniqueName('lease');
  await seedVdc(tw.store, kube, { id, name: id, domainId: 'lease-domain', quota: base });
  const spaceNs = spaceNamespace(id, 'app');
  await kube.objects.patch(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: spaceNs, labels: { 'edgeport.io/vdc': id } } },
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
  await applyResourceQuota(kube, spaceNs, base, { 'edgeport.io/vdc': id });
  await tw.store.spaces.record(id, { name: 'app', namespace: spaceNs, status: 'active', ticketId: 'test-seed', createdAt: new Date().toISOString() });
  return { id, namespaces: [namespaceOf(id), spaceNs], vdc: { id, name: id, domainId: 'lease-domain', namespace: namespaceOf(id), pool: 'local' } };
}

async function leaseTicket(leased: Quota, lease: QuotaLeaseInput['lease']) {
  const v = await newVdc();
  const policy = decideQuotaLease({ current: base, leased, lease, now: await env.currentTimeMs() });
  if (policy.outcome === 'deny') throw new Error(`test setup: denied: ${policy.reason}`);
  const input: QuotaLeaseInput = { ticketId: uniqueName('tkt'), requester, vdc: v.vdc, leased, lease, policy, approvalTimeoutMs: 7 * 24 * H };
  await tw.store.tickets.insertOrGet({
    _id: input.ticketId,
    type: 'quota-lease',
    status: 'submitted',
    requester,
    vdc: input.vdc,
    payload: { type: 'quota-lease', vdcId: v.id, quota: leased, ...lease },
    policy,
    approvals: [],
    currentStep: null,
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
  const handle = await env.client.workflow.start(quotaLeaseWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });
  return { ...v, input, handle };
}

/**
 * A time safely after the test server's clock (which earlier tests have skipped forward by days), so a
 * window built from it is still in the future when the workflow reads its own clock.
 */
const later = async (): Promise<number> => Math.max(await env.currentTimeMs(), Date.now()) + 20 * 24 * H;

const hardOf = async (namespaces: string[]): Promise<Quota[]> => Promise.all(namespaces.map(async (ns) => (await readQuota(kube, ns)).hard));

async function waitFor<T>(read: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not reached; last: ${JSON.stringify(last)}`);
}

async function approveAll(handle: Awaited<ReturnType<typeof leaseTicket>>['handle']): Promise<void> {
  const s = await waitFor(
    () => handle.query(stateQuery),
    (x) => x.status === 'pending_approval' && !!x.preview,
  );
  const approvers = [
    { actor: admin, actorRoles: ['vdc-admin' as const] },
    { actor: ops, actorRoles: ['ops-admin' as const] },
  ];
  for (const [i, a] of approvers.slice(0, s.approvals.length).entries()) {
    // Decide only once the step's deadline is projected: the SLA chain in approval.ts misses a decision
    // that arrives while it is still projecting the step (reported to its owner).
    await waitFor(
      () => tw.store.tickets.get(handle.workflowId),
      (t) => !!t?.approvals[i]?.deadline,
    );
    await handle.executeUpdate(decideUpdate, { args: [{ ...a, decision: 'approve', previewHash: s.preview?.hash }] });
  }
}

describe('quotaLeaseWorkflow', () => {
  it('a 3-day lease applies to every namespace, reverts at its end (time-skipped), and the ledger bills exactly the leased interval', async () => {
    const t = await leaseTicket({ cpu: 8, pods: 30 }, { durationHours: 72 });
    const preview = await waitFor(
      () => t.handle.query(stateQuery),
      (x) => !!x.preview,
    );
    expect(preview.preview).toMatchObject({ namespaces: t.namespaces, current: base, requested: { cpu: 8, pods: 30 } });
    await approveAll(t.handle);

    const active = await waitFor(
      async () => ({ ...(await t.handle.query(leaseQuery)), ticket: await t.handle.query(stateQuery) }),
      (l) => l.phase === 'active',
    );
    expect(active).toMatchObject({ base, delta: { cpu: 4, pods: 10 } });
    expect(Date.parse(active.endsAt!) - Date.parse(active.startsAt!)).toBe(72 * H);
    await waitFor(
      () => tw.store.ledger.byWorkflow(t.input.ticketId),
      (l) => l.length === 1,
    );
    const leasedQuota = { cpu: 8, memoryGi: 8, pods: 30 };
    expect(await hardOf(t.namespaces)).toEqual([leasedQuota, leasedQuota]);
    expect((await tw.store.vdcs.get(t.id))?.quota).toEqual(leasedQuota);
    const open = await tw.store.ledger.byWorkflow(t.input.ticketId);
    expect(open[0]).toMatchObject({ fact: 'quota.lease', quantities: { cpu: 4, pods: 10 } });
    expect(open[0]?.end).toBeUndefined();

    const result = await t.handle.result();
    expect(result).toMatchObject({ status: 'completed', appliedAt: active.startsAt, revertedAt: active.endsAt });
    expect(await hardOf(t.namespaces)).toEqual([base, base]);
    expect((await tw.store.vdcs.get(t.id))?.quota).toEqual(base);

    const lines = await tw.store.ledger.byWorkflow(t.input.ticketId);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({
      fact: 'quota.lease',
      vdcId: t.id,
      domainId: 'lease-domain',
      pool: 'local',
      quantities: { cpu: 4, pods: 10 },
      units: { cpu: 'core', pods: 'pod' },
    });
    expect(line.start.toISOString()).toBe(result.appliedAt);
    expect(line.end?.toISOString()).toBe(result.revertedAt);
    expect(line.end!.getTime() - line.start.getTime()).toBe(72 * H);
    expect(line._id).toBe(`${t.input.ticketId}/${line.runId}/${line.eventId}`);
    // The stored line is exactly what a rebuild from the history derives (what `verify` compares).
    const { createdAt: _createdAt, ...stored } = line;
    expect(ledgerLinesFromHistory(t.input.ticketId, await t.handle.fetchHistory())).toEqual([stored]);
    expect((await tw.store.tickets.get(t.input.ticketId))?.status).toBe('completed');
  }, 120_000);

  it('a lease cancelled after approval but before its start never applies and bills nothing', async () => {
    const now = await later();
    const t = await leaseTicket({ cpu: 6 }, { startsAt: new Date(now + 24 * H).toISOString(), endsAt: new Date(now + 48 * H).toISOString() });
    await approveAll(t.handle);
    await waitFor(
      () => t.handle.query(leaseQuery),
      (l) => l.phase === 'scheduled',
    );
    await t.handle.signal(cancelSignal, { actor: requester, reason: 'not needed' });
    expect(await t.handle.result()).toMatchObject({ status: 'cancelled', error: 'cancelled by Requester: not needed' });
    expect(await hardOf(t.namespaces)).toEqual([base, base]);
    expect(await tw.store.ledger.byWorkflow(t.input.ticketId)).toHaveLength(0);
    expect((await tw.store.tickets.get(t.input.ticketId))?.status).toBe('cancelled');
  });

  it('a lease cancelled while awaiting approval ends cancelled', async () => {
    const t = await leaseTicket({ cpu: 6 }, { durationHours: 5 });
    await waitFor(
      () => t.handle.query(stateQuery),
      (x) => x.status === 'pending_approval',
    );
    await t.handle.signal(cancelSignal, { actor: requester });
    expect(await t.handle.result()).toMatchObject({ status: 'cancelled' });
    expect(await hardOf(t.namespaces)).toEqual([base, base]);
    expect(await tw.store.ledger.byWorkflow(t.input.ticketId)).toHaveLength(0);
  });

  it('a scheduled lease starts at startsAt; a raise made during the lease survives the revert', async () => {
    const now = await later();
    const startsAt = new Date(now + 10 * H).toISOString();
    const t = await leaseTicket({ cpu: 6 }, { startsAt, durationHours: 48 });
    await approveAll(t.handle);
    const scheduled = await waitFor(
      () => t.handle.query(leaseQuery),
      (l) => l.phase === 'scheduled',
    );
    expect(scheduled.startsAt).toBe(startsAt);
    expect((await hardOf(t.namespaces)).map((q) => q.cpu)).toEqual([4, 4]);
    const active = await waitFor(
      async () => {
        const l = { ...(await t.handle.query(leaseQuery)), ticket: await t.handle.query(stateQuery) };
        if (l.phase === 'scheduled') await env.sleep(24 * H);
        return l;
      },
      (l) => l.phase === 'active',
    );
    expect(Date.parse(active.startsAt!)).toBeGreaterThanOrEqual(Date.parse(startsAt));
    expect(Date.parse(active.endsAt!) - Date.parse(active.startsAt!)).toBe(48 * H);
    // A permanent raise during the lease (as a quota change would record it): 6 → 9.
    await tw.store.vdcs.setQuota(t.id, { cpu: 9 });
    const result = await t.handle.result();
    expect(result.status).toBe('completed');
    expect((await tw.store.vdcs.get(t.id))?.quota.cpu).toBe(7);
    expect((await hardOf(t.namespaces)).map((q) => q.cpu)).toEqual([7, 7]);
  }, 120_000);
});

describe('a lease whose apply fails for good', () => {
  it('leaves no lease record and no raised quota behind, and bills nothing', async () => {
    // The VDC's first namespace is removed by hand after preflight and before approval: the apply is refused
    // (KubernetesRefused, 404) after the lease was recorded and the VDC's quota raised.
    const id = uniqueName('lease-gone');
    await seedVdc(tw.store, kube, { id, name: id, domainId: 'lease-domain', quota: base });
    const vdc: QuotaLeaseInput['vdc'] = { id, name: id, domainId: 'lease-domain', namespace: namespaceOf(id), pool: 'local' };
    const leased = { cpu: 8 };
    const lease = { durationHours: 24 };
    const policy = decideQuotaLease({ current: base, leased, lease, now: await env.currentTimeMs() });
    if (policy.outcome === 'deny') throw new Error(`test setup: denied: ${policy.reason}`);
    const input: QuotaLeaseInput = { ticketId: uniqueName('tkt'), requester, vdc, leased, lease, policy, approvalTimeoutMs: 7 * 24 * H };
    await tw.store.tickets.insertOrGet({
      _id: input.ticketId,
      type: 'quota-lease',
      status: 'submitted',
      requester,
      vdc,
      payload: { type: 'quota-lease', vdcId: id, quota: leased, ...lease },
      policy,
      approvals: [],
      currentStep: null,
      approvalTimeoutMs: input.approvalTimeoutMs,
    });
    const handle = await env.client.workflow.start(quotaLeaseWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });
    await waitFor(
      () => handle.query(stateQuery),
      (x) => x.status === 'pending_approval' && !!x.preview,
    );
    await kube.core.deleteNamespace({ name: vdc.namespace });
    await waitFor(
      () =>
        kube.core.readNamespace({ name: vdc.namespace }).then(
          () => 'present',
          () => 'gone',
        ),
      (x) => x === 'gone',
    );
    await approveAll(handle);

    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/ResourceQuota .* not ?found|not found/i);
    expect(result.error).toContain('quota not restored on the cluster');
    const after = await tw.store.vdcs.get(id);
    expect(after?.leases ?? []).toEqual([]);
    expect(after?.quota).toEqual(base);
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toHaveLength(0);
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : [],
    );
    expect(scheduled[scheduled.indexOf('applyLeaseQuota') + 1]).toBe('abandonLeaseQuota');
    expect(ledgerLinesFromHistory(input.ticketId, history)).toEqual([]);
  }, 120_000);

  it('on a VDC whose namespace does not exist on its pool is refused at preflight, before approval', async () => {
    const id = uniqueName('lease-none');
    await tw.store.vdcs.upsert({
      _id: id,
      name: id,
      domainId: 'lease-domain',
      namespace: namespaceOf(id),
      namespaceStatus: 'requested',
      pool: 'local',
      quota: base,
    });
    const vdc: QuotaLeaseInput['vdc'] = { id, name: id, domainId: 'lease-domain', namespace: namespaceOf(id), pool: 'local' };
    const leased = { cpu: 8 };
    const lease = { durationHours: 24 };
    const policy = decideQuotaLease({ current: base, leased, lease, now: await env.currentTimeMs() });
    if (policy.outcome === 'deny') throw new Error(`test setup: denied: ${policy.reason}`);
    const input: QuotaLeaseInput = { ticketId: uniqueName('tkt'), requester, vdc, leased, lease, policy, approvalTimeoutMs: 7 * 24 * H };
    await tw.store.tickets.insertOrGet({
      _id: input.ticketId,
      type: 'quota-lease',
      status: 'submitted',
      requester,
      vdc,
      payload: { type: 'quota-lease', vdcId: id, quota: leased, ...lease },
      policy,
      approvals: [],
      currentStep: null,
      approvalTimeoutMs: input.approvalTimeoutMs,
    });
    const handle = await env.client.workflow.start(quotaLeaseWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'failed', error: expect.stringMatching(/^preflight: namespace \S+ on pool local does not exist/) });
    expect((await tw.store.vdcs.get(id))?.leases ?? []).toEqual([]);
    expect((await tw.store.vdcs.get(id))?.quota).toEqual(base);
  });
});

describe('a quota change during a lease', () => {
  it('bills net of the lease (the lease line bills the increase), which is the quota the revert leaves', async () => {
    const t = await leaseTicket({ cpu: 8 }, { durationHours: 72 });
    await approveAll(t.handle);
    await waitFor(
      () => t.handle.query(leaseQuery),
      (l) => l.phase === 'active',
    );
    expect((await tw.store.vdcs.get(t.id))?.leases).toEqual([
      { ticketId: t.input.ticketId, base, delta: { cpu: 4 }, endsAt: (await t.handle.query(leaseQuery)).endsAt },
    ]);

    // The quota change's apply step, run as its activity while the lease is in force: memory 8 → 12.
    const quotaActivities = createQuotaActivities({ pools: testPoolClients(tw.store), store: tw.store, crashPoint: () => undefined });
    const current = (await tw.store.vdcs.get(t.id))!.quota;
    const applied: ApplyQuotaResult = await new MockActivityEnvironment().run(quotaActivities.applyQuota, { vdc: t.vdc, current, requested: { memoryGi: 12 } });
    expect(applied.quota).toEqual({ cpu: 8, memoryGi: 12, pods: 20 });
    expect(applied.billed).toEqual({ cpu: 4, memoryGi: 12, pods: 20 });
    expect(applied.leases).toEqual([t.input.ticketId]);

    expect(await t.handle.result()).toMatchObject({ status: 'completed' });
    // What the allocation line billed from the change on is what is in force once the lease has reverted.
    expect((await tw.store.vdcs.get(t.id))?.quota).toEqual(applied.billed);
    expect((await tw.store.vdcs.get(t.id))?.leases ?? []).toEqual([]);
  }, 120_000);

  it('nets each active lease out by its revert rule, never below its base', () => {
    const lease = { ticketId: 't1', base: { cpu: 4, pods: 20 }, delta: { cpu: 4 }, endsAt: '2026-01-01T00:00:00.000Z' };
    expect(netOfLeases({ cpu: 8, pods: 20 }, [lease])).toEqual({ cpu: 4, pods: 20 });
    expect(netOfLeases({ cpu: 10, pods: 20 }, [lease])).toEqual({ cpu: 6, pods: 20 });
    expect(netOfLeases({ cpu: 5, pods: 20 }, [lease])).toEqual({ cpu: 4, pods: 20 });
    expect(netOfLeases({ cpu: 8 }, [])).toEqual({ cpu: 8 });
  });
});

describe('quotaChangeWorkflow over application spaces', () => {
  it('sums usage per resource over namespaces (3 decimals; absent stays absent)', () => {
    expect(sumQuotas([{ cpu: 0.1, pods: 2 }, { cpu: 0.2 }, {}])).toEqual({ cpu: 0.3, pods: 2 });
  });

  it('preflight sums usage over every namespace; apply sets the VDC and every ResourceQuota', async () => {
    const v = await newVdc();
    const requested = { cpu: 6 };
    const policy = decideQuotaChange({ current: base, requested });
    if (policy.outcome === 'deny') throw new Error('denied');
    const input: QuotaChangeInput = { ticketId: uniqueName('tkt'), requester, vdc: v.vdc, requested, policy, approvalTimeoutMs: H };
    await tw.store.tickets.insertOrGet({
      _id: input.ticketId,
      type: 'quota-change',
      status: 'submitted',
      requester,
      vdc: v.vdc,
      payload: { type: 'quota-change', vdcId: v.id, quota: requested },
      policy,
      approvals: [],
      currentStep: null,
      approvalTimeoutMs: H,
    });
    const handle = await env.client.workflow.start(quotaChangeWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });
    const s = await waitFor(
      () => handle.query(stateQuery),
      (x) => x.status === 'pending_approval',
    );
    expect(s.preview).toMatchObject({ namespaces: v.namespaces, current: base });
    await handle.executeUpdate(decideUpdate, { args: [{ actor: admin, actorRoles: ['vdc-admin'], decision: 'approve' }] });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const changed = { ...base, cpu: 6 };
    expect(await hardOf(v.namespaces)).toEqual([changed, changed]);
    expect((await tw.store.vdcs.get(v.id))?.quota).toEqual(changed);
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toHaveLength(1);
  });
});
