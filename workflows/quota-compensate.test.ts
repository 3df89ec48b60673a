import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../infra/failpoints.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { applyQuota as applyResourceQuota, readQuota } from '../infra/kube/quota.ts';
import type { QuotaChangeInput } from '../common/quota-change-workflow.ts';
import { spaceNamespace, type Quota } from '../common/tickets.ts';
import { decideQuotaChange } from '../policies/quota-change.ts';
import { namespaceOf, seedVdc } from '../stack/seed.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import type { Store } from '../store/index.ts';
import { useTimeSkippingWorkers } from '../stack/testing/workflow-env.ts';
import { quotaChangeWorkflow } from './quota-change.ts';
import { testReplayOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Saga compensation of a quota change (patch `quota-compensate`) on the real kube-apiserver: the worker
 * on the failing queue has `worker-fail-quota-apply` armed, which fails applyQuota for good after the VDC
 * record and every namespace already carry the new quota, so only the compensation can put it back.
 */
const ts = useTimeSkippingWorkers({ failing: { queuePrefix: 'quota-fail', failpoints: [FAILPOINTS.workerFailQuotaApply] } });
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
const current: Quota = { cpu: 4, memoryGi: 8, pods: 20 };
const requester = { sub: 'u-req', name: 'Requester' };

let env: TestWorkflowEnvironment;
beforeAll(() => {
  env = ts.env;
});

/** Stores the ticket of a quota change of VDC `vdcId` (as the API would) and starts its workflow on `taskQueue`. */
async function startTicket(store: Store, taskQueue: string, vdcId: string, requested: Quota) {
  const policy = decideQuotaChange({ current, requested });
  if (policy.outcome === 'deny') throw new Error(`test setup: denied: ${policy.reason}`);
  const input: QuotaChangeInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc: { id: vdcId, name: vdcId, domainId: 'qc-domain', namespace: namespaceOf(vdcId), pool: 'local' },
    requested,
    policy,
    approvalTimeoutMs: 3_600_000,
  };
  await store.tickets.insertOrGet({
    _id: input.ticketId,
    type: 'quota-change',
    status: 'submitted',
    requester,
    vdc: input.vdc,
    payload: { type: 'quota-change', vdcId, quota: requested },
    policy,
    approvals: [],
    currentStep: null,
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
  const handle = await env.client.workflow.start(quotaChangeWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });
  return { input, handle };
}

describe('quota change compensation', () => {
  it('an apply that fails after reaching the VDC and its space restores the previous quota everywhere; no ledger line; the history replays', async () => {
    const { tw, taskQueue } = ts.workers.failing;
    const vdcId = uniqueName('qc');
    await seedVdc(tw.store, kube, { id: vdcId, name: vdcId, domainId: 'qc-domain', quota: current });
    // An active application space: the apply writes its ResourceQuota too, so the restore must as well.
    const space = spaceNamespace(vdcId, 'web');
    await kube.core.createNamespace({ body: { metadata: { name: space } } });
    await applyResourceQuota(kube, space, current, { 'edgeport.io/vdc': vdcId });
    await tw.store.spaces.record(vdcId, { name: 'web', namespace: space, status: 'active', ticketId: 'seed', createdAt: new Date().toISOString() });

    const requested: Quota = { cpu: 2 }; // a pure decrease: auto-approved, so the run goes straight to apply
    expect(decideQuotaChange({ current, requested }).outcome).toBe('auto-approve');
    const { input, handle } = await startTicket(tw.store, taskQueue, vdcId, requested);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'compensated', error: 'failpoint worker-fail-quota-apply armed; previous quota restored' });

    for (const ns of [input.vdc.namespace, space]) expect((await readQuota(kube, ns)).hard).toEqual(current);
    expect((await tw.store.vdcs.get(vdcId))?.quota).toEqual(current);
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toEqual([]);
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'compensated', error: result.error });

    // The apply did reach the cluster before failing: its activity failed and the restore ran after it.
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : [],
    );
    expect(scheduled.slice(scheduled.indexOf('applyQuota'))).toEqual(['applyQuota', 'restoreQuota', 'projectTicket']);
    expect(
      (history.events ?? []).some(
        (e) => e.markerRecordedEventAttributes?.markerName === 'core_patch' || e.markerRecordedEventAttributes?.markerName === 'deprecated_patch',
      ),
    ).toBe(true);

    await Worker.runReplayHistory(testReplayOptions(), history, input.ticketId);
    // EDGEPORT_RECORD_FIXTURES=1 refreshes the replay fixture from this run.
    if (process.env.EDGEPORT_RECORD_FIXTURES === '1')
      writeFileSync(join(import.meta.dirname, '__fixtures__', 'quota-change-compensated.json'), historyToJSON(history));
  });

  it('a VDC whose namespace does not exist on its pool is refused at preflight: ticket failed before approval, record and cluster untouched', async () => {
    const { tw, taskQueue } = ts.workers.failing;
    const vdcId = uniqueName('qn');
    // What an API-created VDC looked like before provisioning: a record, no namespace on the pool.
    await tw.store.vdcs.upsert({
      _id: vdcId,
      name: vdcId,
      domainId: 'qc-domain',
      namespace: namespaceOf(vdcId),
      namespaceStatus: 'requested',
      pool: 'local',
      quota: current,
      provisioning: { state: 'failed', reason: 'pool local unreachable', at: new Date().toISOString() },
    });
    const requested: Quota = { cpu: 6, memoryGi: 12, pods: 30 };
    const { input, handle } = await startTicket(tw.store, taskQueue, vdcId, requested);
    const result = await handle.result();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(
      /^preflight: namespace vdc-qn-\S+ on pool local does not exist: VDC \S+ is not provisioned \(failed: pool local unreachable\)/,
    );
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'failed', error: result.error });
    expect((await tw.store.vdcs.get(vdcId))?.quota).toEqual(current);
    expect(await kube.core.readNamespace({ name: input.vdc.namespace }).catch(() => undefined)).toBeUndefined();
    expect(await tw.store.ledger.byWorkflow(input.ticketId)).toEqual([]);
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : [],
    );
    expect(scheduled).not.toContain('applyQuota');
    await Worker.runReplayHistory(testReplayOptions(), history, input.ticketId);
    if (process.env.EDGEPORT_RECORD_FIXTURES === '1')
      writeFileSync(join(import.meta.dirname, '__fixtures__', 'quota-change-preflight-refused.json'), historyToJSON(history));
  });
});
