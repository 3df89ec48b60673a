import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { TicketView } from '../common/tickets.ts';
import type { WorkloadDetail, WorkloadOperationPreview, WorkloadSummary } from '../common/workload-ops.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp, until } from '../stack/testing/http.ts';
import { openStore, type Store } from '../store/index.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { verifyLedger } from '../services/ledger-verify.ts';

/**
 * Workloads after deploy, over HTTP against the real stack (api + worker processes, kube-apiserver with
 * kwok nodes): list / detail / logs, direct operations (scale, stop, start, restart) and ticketed ones
 * (expose as NodePort, delete), each checked on the kube-apiserver, in the record, the audit trail.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('wlops');
const otherVdc = uniqueName('wlopsx');
const namespace = namespaceOf(vdcId);
const W = `/api/vdcs/${vdcId}/workloads/${namespace}/web`;

let store: Store;
let temporal: Client;
let api: AppProcess;
let worker: AppProcess;
const { call, login, cookie, ticketStatus } = testHttp();

async function ticket(user: string, id: string, status: string): Promise<TicketView & { preview?: WorkloadOperationPreview }> {
  try {
    return await ticketStatus(user, id, status, { timeout: 90_000, interval: 300 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nworker: ${worker.output().slice(-3000)}`);
  }
}

const deployment = (): Promise<any> =>
  kube.objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace } }).catch(() => undefined);
const service = (): Promise<any> => kube.objects.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace } }).catch(() => undefined);
const op = (user: string, operation: unknown) => call(user, 'POST', `${W}/operations`, { operation });
const auditActions = async (): Promise<string[]> =>
  (
    await store.testing
      .collection(AUDIT_COLLECTION)
      .find({ target: `workload:${namespace}/web` })
      .sort({ seq: 1 })
      .toArray()
  ).map((e) => `${e.action}:${e.outcome}`);
const ready = (n: number) =>
  until(
    async () => {
      const d = await deployment();
      return (d?.status?.readyReplicas ?? 0) === n && (d?.status?.replicas ?? 0) === n && d;
    },
    { what: `${n} ready`, timeout: 90_000, interval: 300 },
  );

let deployTicket = '';
let deleteTicket = '';

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  await seedVdc(store, kube, { id: vdcId, name: 'Workload ops VDC', domainId: 'wlops-domain', quota: { cpu: 4, memoryGi: 8, pods: 10 } });
  await seedVdc(store, kube, { id: otherVdc, name: 'Other VDC', domainId: 'wlops-domain-x', quota: { cpu: 1, memoryGi: 1, pods: 2 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('other')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId: otherVdc } }]);
  await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'web-secret' }, stringData: { token: 'not-shown' } } });
  api = startApp(repoDir, 'api', { ...env, EDGEPORT_RECONCILE_SECONDS: '1' });
  worker = startApp(repoDir, 'worker', env);
  await Promise.all([waitForWorker(worker, 300_000), waitForApi(api, base, 300_000)]);
  await login('tenant', 'vdcadmin', 'other');

  const sub = await call('tenant', 'POST', '/api/tickets', {
    type: 'workload-deploy',
    vdcId,
    workload: {
      kind: 'Deployment',
      name: 'web',
      replicas: 1,
      containers: [
        {
          name: 'app',
          image: 'registry.invalid/web:1',
          requests: { cpu: '100m', memory: '64Mi' },
          limits: { cpu: '200m', memory: '128Mi' },
          env: [
            { name: 'MODE', value: 'prod' },
            { name: 'TOKEN', secretRef: { name: 'web-secret', key: 'token' } },
          ],
          securityContext: { runAsNonRoot: true },
        },
      ],
      service: { type: 'ClusterIP', port: 80 },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
    },
  });
  expect(sub.status).toBe(201);
  deployTicket = sub.body.id;
  const pending = await ticket('vdcadmin', deployTicket, 'pending_approval');
  expect((await call('vdcadmin', 'POST', `/api/tickets/${deployTicket}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(
    200,
  );
  await ticket('tenant', deployTicket, 'completed');
}, 600_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
  await temporal?.connection.close();
});

describe('workloads after deploy over HTTP', () => {
  it('lists the VDC workload with live status, replicas, image, revision, access address and the deploy ticket', async () => {
    const item = await until<WorkloadSummary | false | undefined>(
      async () => {
        const r = await call('tenant', 'GET', `/api/vdcs/${vdcId}/workloads`);
        expect(r.status).toBe(200);
        return (r.body.items as WorkloadSummary[]).find((w) => w.name === 'web' && w.status === 'available');
      },
      { what: 'available', timeout: 90_000, interval: 300 },
    );
    expect(item).toMatchObject({
      namespace,
      kind: 'Deployment',
      replicas: { ready: 1, desired: 1 },
      images: ['registry.invalid/web:1'],
      revision: 1,
      ticketId: deployTicket,
    });
    expect(item.access).toEqual([{ kind: 'ClusterIP', address: expect.stringMatching(/^[0-9.]+:80$/) }]);
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}/workloads?space=nosuch`)).body.items).toEqual([]);
  });

  it('shows pods, events, revisions, env (references as references), scheduling and security', async () => {
    const d = await until<WorkloadDetail | false | undefined>(
      async () => {
        const r = await call('tenant', 'GET', W);
        return r.status === 200 && r.body.events.length > 0 && r.body.pods.length === 1 && r.body;
      },
      { what: 'events', timeout: 90_000, interval: 300 },
    );
    expect(d.pods[0]).toMatchObject({ phase: 'Running', restarts: 0, node: expect.stringMatching(/^edge-/), ip: expect.any(String), containers: ['app'] });
    expect(d.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['ScalingReplicaSet']));
    expect(d.revisions).toEqual([expect.objectContaining({ revision: 1, ticketId: deployTicket, current: true, changes: [] })]);
    expect(d.env).toEqual([
      { container: 'app', name: 'MODE', value: 'prod' },
      { container: 'app', name: 'TOKEN', secretRef: { name: 'web-secret', key: 'token' } },
    ]);
    expect(d.scheduling.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(d.security).toEqual([{ container: 'app', settings: { runAsNonRoot: true } }]);
  });

  it('tails the pod log (kwok serves a simulated line) and follows it as server-sent events', async () => {
    const tail = await call('tenant', 'GET', `${W}/logs?tailLines=10`);
    expect(tail.status).toBe(200);
    expect(tail.body.lines.join('\n')).toContain('simulated container on a kwok node');
    expect((await call('tenant', 'GET', `${W}/logs?tailLines=0`)).status).toBe(400);

    const abort = new AbortController();
    const res = await fetch(`${base}${W}/logs?follow=true&tailLines=5`, { headers: { cookie: cookie('tenant') }, signal: abort.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 30_000;
    while (!text.includes('event: line') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    expect(text).toContain('event: line');
    expect(text).toContain('simulated container on a kwok node');
  });

  it('scales directly within quota; past the quota or an invalid count is refused naming the field', async () => {
    const r = await op('tenant', { op: 'scale', replicas: 3 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ mode: 'direct', op: 'scale', changes: ['replicas: 1 → 3'] });
    expect((await ready(3)).spec.replicas).toBe(3);
    expect((await store.workloads.get(namespace, 'web'))?.spec.replicas).toBe(3);
    // The API did not write to Kubernetes: a completed workflow (id = the operation id) did, on the worker.
    const run = await temporal.workflow.getHandle(r.body.opId).describe();
    expect(run).toMatchObject({ type: 'workloadDirectOperationWorkflow', status: { name: 'COMPLETED' } });
    expect(await temporal.workflow.getHandle(r.body.opId).result()).toEqual({ changes: ['replicas: 1 → 3'] });
    const listed: string[] = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowId = '${r.body.opId}'` })) listed.push(`${w.type}:${w.status.name}`);
    expect(listed).toEqual(['workloadDirectOperationWorkflow:COMPLETED']);
    expect((await call('tenant', 'GET', W)).body.operations[0]).toMatchObject({ id: r.body.opId, op: 'scale', via: 'direct' });

    const tooMany = await op('tenant', { op: 'scale', replicas: 11 });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.errors).toEqual([{ field: 'operation.replicas', message: expect.stringMatching(/^quota: pods would be 11 of 10/) }]);
    const bad = await op('tenant', { op: 'scale', replicas: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toContain('operation.replicas');
    expect((await deployment()).spec.replicas).toBe(3);

    // A replica change submitted straight as a ticket would skip the quota check: refused, naming the field.
    const ticketScale = await call('tenant', 'POST', '/api/tickets', {
      type: 'workload-operation',
      vdcId,
      name: 'web',
      operation: { op: 'scale', replicas: 11 },
    });
    expect(ticketScale.status).toBe(422);
    expect(ticketScale.body.errors).toEqual([{ field: 'operation.op', message: expect.stringContaining('/operations') }]);
  });

  it('stops to zero remembering the count, starts back to it, restarts with the rollout annotation', async () => {
    expect((await op('tenant', { op: 'stop' })).body).toMatchObject({ mode: 'direct', changes: ['replicas: 3 → 0'] });
    await until(
      async () => {
        const d = await deployment();
        return d.spec.replicas === 0 && (d.status?.replicas ?? 0) === 0;
      },
      { what: 'stopped', timeout: 90_000, interval: 300 },
    );
    const listed = (await call('tenant', 'GET', `/api/vdcs/${vdcId}/workloads`)).body.items[0] as WorkloadSummary;
    expect(listed).toMatchObject({ status: 'stopped', stoppedReplicas: 3 });

    expect((await op('tenant', { op: 'start' })).body).toMatchObject({ mode: 'direct', changes: ['replicas: 0 → 3'] });
    await ready(3);

    const before = (await deployment()).metadata.generation as number;
    const restarted = await op('tenant', { op: 'restart' });
    expect(restarted.status).toBe(200);
    const dep = await deployment();
    expect(dep.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toEqual(expect.any(String));
    expect(dep.metadata.generation).toBeGreaterThan(before);
    expect(dep.metadata.managedFields.some((f: { manager: string; operation: string }) => f.manager === 'edgeport' && f.operation === 'Apply')).toBe(true);
    await ready(3);

    // A later direct apply keeps the restart annotation (no second rollout).
    await op('tenant', { op: 'scale', replicas: 2 });
    const after = await ready(2);
    expect(after.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(
      dep.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'],
    );
    expect(after.metadata.generation).toBe(dep.metadata.generation + 1);
  }, 240_000);

  it('exposing as NodePort needs a VDC admin: a ticket, approved, changes the Service', async () => {
    const r = await op('tenant', {
      op: 'access',
      access: { service: { type: 'NodePort', port: 80, nodePort: 30000 + Math.floor(Math.random() * 2700), sessionAffinity: 'ClientIP' } },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ mode: 'ticket', op: 'access' });
    const pending = await ticket('vdcadmin', r.body.ticketId, 'pending_approval');
    expect(pending.type).toBe('workload-operation');
    expect(pending.preview?.changes).toEqual(expect.arrayContaining(['service.type: "ClusterIP" → "NodePort"']));
    expect((await service()).spec.type).toBe('ClusterIP');
    expect(
      (await call('vdcadmin', 'POST', `/api/tickets/${r.body.ticketId}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status,
    ).toBe(200);
    await ticket('tenant', r.body.ticketId, 'completed');
    expect((await service()).spec).toMatchObject({ type: 'NodePort', sessionAffinity: 'ClientIP' });
    const d = (await call('tenant', 'GET', W)).body as WorkloadDetail;
    expect(d.access.map((a) => a.kind)).toEqual(['ClusterIP', 'NodePort']);
    expect(d.operations[0]).toMatchObject({ op: 'access', via: r.body.ticketId });
  }, 180_000);

  it('a tenant of another VDC gets 404 for the list, the workload, its logs and its operations', async () => {
    expect((await call('other', 'GET', `/api/vdcs/${vdcId}/workloads`)).status).toBe(404);
    expect((await call('other', 'GET', W)).status).toBe(404);
    expect((await call('other', 'GET', `${W}/logs`)).status).toBe(404);
    expect((await op('other', { op: 'delete' })).status).toBe(404);
    // Its own VDC does not reach this workload either.
    expect((await call('other', 'GET', `/api/vdcs/${otherVdc}/workloads/${namespace}/web`)).status).toBe(404);
    expect((await call('other', 'POST', `/api/vdcs/${otherVdc}/workloads/${namespace}/web/operations`, { operation: { op: 'restart' } })).status).toBe(404);
  });

  it('delete goes through a ticket; on approval every object is gone, the record too, and the audit trail tells it', async () => {
    const r = await op('tenant', { op: 'delete' });
    expect(r.status).toBe(202);
    deleteTicket = r.body.ticketId;
    const pending = await ticket('vdcadmin', r.body.ticketId, 'pending_approval');
    expect(pending.preview?.changes).toEqual(['delete Deployment/web', 'delete Service/web']);
    expect(await deployment()).toBeDefined();
    expect(
      (await call('vdcadmin', 'POST', `/api/tickets/${r.body.ticketId}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status,
    ).toBe(200);
    await ticket('tenant', r.body.ticketId, 'completed');
    expect(await deployment()).toBeUndefined();
    expect(await service()).toBeUndefined();
    await until(async () => (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=web' })).items.length === 0, {
      what: 'pods gone',
      timeout: 90_000,
      interval: 300,
    });
    expect(await store.workloads.get(namespace, 'web')).toBeNull();
    expect((await call('tenant', 'GET', W)).status).toBe(404);
    const timeline = await call('tenant', 'GET', `/api/tickets/${r.body.ticketId}/timeline`);
    expect(timeline.body.items.map((e: { title: string }) => e.title)).toEqual(expect.arrayContaining(['Workload operation applied']));
    expect(await auditActions()).toEqual([
      'workload.scale:success',
      'workload.scale:failure',
      'workload.stop:success',
      'workload.start:success',
      'workload.restart:success',
      'workload.scale:success',
      'workload.access.requested:success',
      'workload.delete.requested:success',
    ]);
  }, 180_000);

  it('meters the requests: one workload.requests line per deploy / scale / stop / start / delete, each from its history event; verify diffs to zero', async () => {
    const lines = (await store.ledger.list([vdcId])).filter((l) => l.subject === `${namespace}/web`);
    const q = (cpu: number, memoryGi: number) => ({ cpu, memoryGi, storageGi: 0 });
    // deploy (1 × 100m / 64Mi), scale → 3, stop, start (→ 3), scale → 2, delete; restart and access change no allocation.
    expect(lines.map((l) => ({ fact: l.fact, quantities: l.quantities }))).toEqual(
      [q(0.1, 0.0625), q(0.3, 0.1875), q(0, 0), q(0.3, 0.1875), q(0.2, 0.125), q(0, 0)].map((quantities) => ({ fact: 'workload.requests', quantities })),
    );
    expect(lines[0]!.workflowId).toBe(deployTicket);
    expect(lines[5]!.workflowId).toBe(deleteTicket);
    for (const l of lines) {
      expect(l).toMatchObject({ vdcId, domainId: 'wlops-domain', units: { cpu: 'core', memoryGi: 'GiB', storageGi: 'GiB' } });
      // Provenance: the line's event is the completion of the activity that reported the fact, in that run.
      const history = await temporal.workflow.getHandle(l.workflowId).fetchHistory();
      expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId).toBe(l.runId);
      const ev = history.events?.find((e) => Number(e.eventId) === l.eventId);
      const scheduledId = Number(ev?.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0);
      const scheduled = history.events?.find((e) => Number(e.eventId) === scheduledId)?.activityTaskScheduledEventAttributes?.activityType?.name;
      expect(scheduled).toBe(l.workflowId === deployTicket ? 'recordWorkload' : 'executeWorkloadOperation');
      if (l.workflowId.startsWith('op-')) expect((await temporal.workflow.getHandle(l.workflowId).describe()).type).toBe('workloadDirectOperationWorkflow');
    }
    const verified = await verifyLedger({ temporal, storedLines: (ids) => store.ledger.list(ids) }, { vdcIds: [vdcId] });
    expect(verified.differences).toEqual([]);
    expect(verified).toMatchObject({ ok: true, rebuiltLines: 6, storedLines: 6 });
  }, 120_000);

  it('a StatefulSet deploys with volume claim templates: on the StatefulSet, one claim per replica, in the detail and the ledger; the name is taken in the VDC', async () => {
    const container = {
      name: 'db',
      image: 'registry.invalid/db:1',
      requests: { cpu: '100m', memory: '64Mi' },
      limits: { cpu: '200m', memory: '128Mi' },
      volumeMounts: [{ volume: 'db-data', mountPath: '/data' }],
    };
    const template = { name: 'db-data', size: '1Gi', accessMode: 'ReadWriteOnce' };
    const notStateful = await call('tenant', 'POST', '/api/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: { kind: 'Deployment', name: 'dbx', containers: [container], volumeClaimTemplates: [template] },
    });
    expect(notStateful.status).toBe(400);
    expect(notStateful.body.errors.map((e: { field: string }) => e.field)).toContain('workload.volumeClaimTemplates');

    const sub = await call('tenant', 'POST', '/api/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: {
        kind: 'StatefulSet',
        name: 'db',
        replicas: 2,
        containers: [container],
        volumeClaimTemplates: [template],
        service: { type: 'ClusterIP', port: 5432 },
      },
    });
    expect(sub.status).toBe(201);
    const pending = await ticket('vdcadmin', sub.body.id, 'pending_approval');
    expect((await call('vdcadmin', 'POST', `/api/tickets/${sub.body.id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(
      200,
    );
    await ticket('tenant', sub.body.id, 'completed');

    const sts: any = await kube.objects.read({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace } });
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0]).toMatchObject({
      metadata: { name: 'db-data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete', whenScaled: 'Retain' });
    expect(sts.spec.template.spec.volumes ?? []).toEqual([]);
    const claims = (await kube.core.listNamespacedPersistentVolumeClaim({ namespace })).items.map((c) => c.metadata?.name).sort();
    expect(claims).toEqual(['db-data-db-0', 'db-data-db-1']);

    const d = (await call('tenant', 'GET', `/api/vdcs/${vdcId}/workloads/${namespace}/db`)).body as WorkloadDetail;
    expect(d.kind).toBe('StatefulSet');
    expect(d.spec.volumeClaimTemplates).toEqual([template]);

    const taken = await call('tenant', 'POST', '/api/tickets', {
      type: 'workload-deploy',
      vdcId,
      workload: { kind: 'StatefulSet', name: 'db2', containers: [container], volumeClaimTemplates: [template] },
    });
    expect(taken.status).toBe(422);
    expect(taken.body.errors).toEqual([
      {
        field: 'workload.volumeClaimTemplates.0.name',
        message: expect.stringMatching(/^storage rule unique-volume-name: volume db-data already exists in this VDC \(workload db in /),
      },
    ]);

    const lines = (await store.ledger.list([vdcId])).filter((l) => l.subject === `${namespace}/db`);
    expect(lines.map((l) => l.quantities)).toEqual([{ cpu: 0.2, memoryGi: 0.125, storageGi: 2 }]);
    expect((await verifyLedger({ temporal, storedLines: (ids) => store.ledger.list(ids) }, { vdcIds: [vdcId] })).differences).toEqual([]);

    // Deleting the workload deletes its claims too (retention policy whenDeleted: Delete, garbage collector).
    const del = await call('tenant', 'POST', `/api/vdcs/${vdcId}/workloads/${namespace}/db/operations`, { operation: { op: 'delete' } });
    expect(del.status).toBe(202);
    const delPending = await ticket('vdcadmin', del.body.ticketId, 'pending_approval');
    expect(
      (await call('vdcadmin', 'POST', `/api/tickets/${del.body.ticketId}/decisions`, { decision: 'approve', previewHash: delPending.preview?.hash })).status,
    ).toBe(200);
    await ticket('tenant', del.body.ticketId, 'completed');
    await until(async () => (await kube.core.listNamespacedPersistentVolumeClaim({ namespace })).items.length === 0, {
      what: 'claims deleted',
      timeout: 90_000,
      interval: 300,
    });
    const after = (await store.ledger.list([vdcId])).filter((l) => l.subject === `${namespace}/db`);
    expect(after.map((l) => l.quantities)).toEqual([
      { cpu: 0.2, memoryGi: 0.125, storageGi: 2 },
      { cpu: 0, memoryGi: 0, storageGi: 0 },
    ]);
  }, 240_000);
});
