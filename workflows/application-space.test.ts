import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../infra/failpoints.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { LIMIT_RANGE_NAME, readNamespace, SPACE_ROLE_BINDINGS } from '../infra/kube/space.ts';
import type { Role } from '../common/roles.ts';
import type { ApplicationSpaceInput } from '../common/space-workflow.ts';
import { decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import { spaceNamespace, type Quota, type SubmitTicket } from '../common/tickets.ts';
import { decideSpaceCreate, decideSpaceDelete } from '../policies/space.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { useTimeSkippingWorkers } from '../stack/testing/workflow-env.ts';
import type { TicketWorker } from '../worker/create-worker.ts';
import { applicationSpaceWorkflow } from './application-space.ts';

const quota: Quota = { cpu: 3, memoryGi: 6, pods: 15 };
const domainId = 'space-domain';

const ts = useTimeSkippingWorkers({
  main: { queuePrefix: 'space-wf' },
  /** A second worker with a late step armed to fail, on its own task queue. */
  failing: { queuePrefix: 'space-wf-fail', failpoints: [FAILPOINTS.workerFailSpaceRbac] },
});
let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let failingQueue: string;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));

beforeAll(() => {
  env = ts.env;
  ({ tw, taskQueue } = ts.workers.main);
  failingQueue = ts.workers.failing.taskQueue;
});

interface Members {
  vdcAdmin: { sub: string; name: string };
  vdcUser: { sub: string; name: string };
}

/** A fresh VDC (record, first namespace, quota) with one VDC admin and one VDC user. */
async function newVdc(): Promise<{ vdcId: string; members: Members }> {
  const vdcId = uniqueName('sp');
  await seedVdc(tw.store, kube, { id: vdcId, name: vdcId, domainId, quota });
  const members: Members = { vdcAdmin: { sub: uniqueName('u-adm'), name: 'Space Admin' }, vdcUser: { sub: uniqueName('u-usr'), name: 'Space User' } };
  await grant(tw.store, { ...members.vdcAdmin, username: members.vdcAdmin.sub, email: `${members.vdcAdmin.sub}@test` }, [
    { role: 'vdc-admin', scope: { type: 'vdc', vdcId } },
  ]);
  await grant(tw.store, { ...members.vdcUser, username: members.vdcUser.sub, email: `${members.vdcUser.sub}@test` }, [
    { role: 'vdc-user', scope: { type: 'vdc', vdcId } },
  ]);
  return { vdcId, members };
}

/** A stored space ticket and its workflow input, with the policy decided as the API would. */
async function newTicket(
  vdcId: string,
  body: SubmitTicket & { type: 'space-create' | 'space-delete' },
  requester: { sub: string; name: string },
  requesterRoles: Role[],
): Promise<ApplicationSpaceInput> {
  const spaces = await tw.store.spaces.list(vdcId);
  const decision =
    body.type === 'space-create'
      ? decideSpaceCreate({ name: body.name, spaces, requesterRoles })
      : decideSpaceDelete({ name: body.name, spaces, requesterRoles });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const vdc = { id: vdcId, name: vdcId, domainId, namespace: `vdc-${vdcId}`, pool: 'local' };
  const input: ApplicationSpaceInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc,
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    action: body.type === 'space-create' ? 'create' : 'delete',
    space: { name: body.name, namespace: spaceNamespace(vdcId, body.name), labels: body.type === 'space-create' ? (body.labels ?? {}) : {} },
  };
  await tw.store.tickets.insertOrGet({
    _id: input.ticketId,
    type: body.type,
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

const start = (input: ApplicationSpaceInput, queue = taskQueue) =>
  env.client.workflow.start(applicationSpaceWorkflow, { taskQueue: queue, workflowId: input.ticketId, args: [input] });

async function pending(handle: Awaited<ReturnType<typeof start>>): Promise<string> {
  for (;;) {
    const s = await handle.query(stateQuery);
    if (s.status === 'pending_approval' && s.preview) return s.preview.hash;
    if (s.status !== 'submitted') throw new Error(`ticket is ${s.status}: ${s.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readRoleBinding = (namespace: string, name: string) =>
  admin.objects.read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace } }) as Promise<{
    roleRef: { name: string };
    subjects?: { kind: string; name: string }[];
  }>;

describe('applicationSpaceWorkflow', () => {
  it('create, approved by a VDC admin: namespace with labels, ResourceQuota, LimitRange, RoleBindings, recorded on the VDC', async () => {
    const { vdcId, members } = await newVdc();
    const input = await newTicket(vdcId, { type: 'space-create', vdcId, name: 'web', labels: { team: 'blue', 'example.com/tier': 'front' } }, members.vdcUser, [
      'vdc-user',
    ]);
    expect(input.policy.chain.map((s) => s.role)).toEqual(['vdc-admin']);
    const handle = await start(input);
    const hash = await pending(handle);
    await handle.executeUpdate(decideUpdate, { args: [{ actor: members.vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: hash }] });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', quota, steps: ['namespace', 'resource-quota', 'limit-range', 'rbac', 'pull-secret', 'record'] });

    const namespace = `${vdcId}-web`;
    const ns = await readNamespace(kube, namespace);
    expect(ns?.metadata?.labels).toMatchObject({
      'edgeport.io/vdc': vdcId,
      'edgeport.io/domain': domainId,
      'edgeport.io/space': 'web',
      team: 'blue',
      'example.com/tier': 'front',
    });
    expect(ns?.metadata?.annotations?.['edgeport.io/ticket']).toBe(input.ticketId);
    expect((await readQuota(kube, namespace)).hard).toEqual(quota);
    const lr = await kube.core.readNamespacedLimitRange({ name: LIMIT_RANGE_NAME, namespace });
    expect(lr.spec?.limits[0]).toMatchObject({
      type: 'Container',
      defaultRequest: { cpu: '100m', memory: '128Mi' },
      _default: { cpu: '500m', memory: '512Mi' },
    });
    const bindings = Object.fromEntries(
      await Promise.all(SPACE_ROLE_BINDINGS.map(async (b) => [b.clusterRole, await readRoleBinding(namespace, b.name)] as const)),
    );
    expect(bindings.admin?.roleRef.name).toBe('admin');
    expect(bindings.admin?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `oidc:${members.vdcAdmin.sub}` }]);
    expect(bindings.edit?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `oidc:${members.vdcUser.sub}` }]);
    expect(bindings.view?.roleRef.name).toBe('view');

    expect(await tw.store.spaces.list(vdcId)).toEqual([
      { name: 'web', namespace, status: 'active', ticketId: input.ticketId, createdAt: expect.any(String), pool: 'local' },
    ]);
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'completed', preview: { action: 'create', namespace } });
  });

  it('create with the name taken in the cluster: failed at preflight with the reason, nothing created', async () => {
    const { vdcId, members } = await newVdc();
    const namespace = spaceNamespace(vdcId, 'taken');
    await admin.core.createNamespace({ body: { metadata: { name: namespace, labels: { owner: 'someone-else' } } } });
    const input = await newTicket(vdcId, { type: 'space-create', vdcId, name: 'taken' }, members.vdcAdmin, ['vdc-admin']);
    expect(input.policy.outcome).toBe('auto-approve');
    const result = await (await start(input)).result();
    expect(result.status).toBe('failed');
    expect(result.error).toBe(`preflight: namespace ${namespace} already exists in the cluster`);
    const ticket = await tw.store.tickets.get(input.ticketId);
    expect(ticket).toMatchObject({ status: 'failed', error: result.error });
    const ns = await readNamespace(admin, namespace);
    expect(ns?.metadata?.labels).toEqual({ owner: 'someone-else', 'kubernetes.io/metadata.name': namespace });
    expect((await readQuota(admin, namespace)).exists).toBe(false);
    expect(await tw.store.spaces.list(vdcId)).toEqual([]);
  });

  it('a failure in the RBAC step compensates in reverse: namespace deleted, nothing recorded, ticket compensated', async () => {
    const { vdcId, members } = await newVdc();
    const input = await newTicket(vdcId, { type: 'space-create', vdcId, name: 'doomed' }, members.vdcAdmin, ['vdc-admin']);
    const result = await (await start(input, failingQueue)).result();
    expect(result).toMatchObject({
      status: 'compensated',
      error: 'step rbac failed: failpoint worker-fail-space-rbac armed',
      steps: ['namespace', 'resource-quota', 'limit-range', 'compensated: delete namespace'],
    });
    expect(await readNamespace(kube, spaceNamespace(vdcId, 'doomed'))).toBeUndefined();
    expect(await tw.store.spaces.list(vdcId)).toEqual([]);
    expect((await tw.store.tickets.get(input.ticketId))?.status).toBe('compensated');
  });

  it('delete: refused at preflight while a workload is in the space; once empty and approved, the namespace and the record are gone', async () => {
    const { vdcId, members } = await newVdc();
    const created = await (await start(await newTicket(vdcId, { type: 'space-create', vdcId, name: 'tmp' }, members.vdcAdmin, ['vdc-admin']))).result();
    expect(created.status).toBe('completed');
    const namespace = spaceNamespace(vdcId, 'tmp');
    await admin.core.createNamespacedService({ namespace, body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });

    const busy = await newTicket(vdcId, { type: 'space-delete', vdcId, name: 'tmp' }, members.vdcUser, ['vdc-user']);
    const refused = await (await start(busy)).result();
    expect(refused).toMatchObject({ status: 'failed', error: `preflight: namespace ${namespace} is not empty: Service/web` });
    expect(await readNamespace(kube, namespace)).toBeDefined();

    await admin.core.deleteNamespacedService({ name: 'web', namespace });
    const input = await newTicket(vdcId, { type: 'space-delete', vdcId, name: 'tmp' }, members.vdcAdmin, ['vdc-admin']);
    expect(input.policy.chain.map((s) => s.role)).toEqual(['vdc-admin']);
    const handle = await start(input);
    await pending(handle);
    await handle.executeUpdate(decideUpdate, {
      args: [{ actor: { sub: 'u-second-admin', name: 'Second Admin' }, actorRoles: ['vdc-admin'], decision: 'approve' }],
    });
    expect(await handle.result()).toMatchObject({ status: 'completed', steps: ['mark-deleting', 'namespace deleted', 'record removed'] });
    expect(await readNamespace(kube, namespace)).toBeUndefined();
    expect(await tw.store.spaces.list(vdcId)).toEqual([]);
  });
});
