import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../activities/failpoints.ts';
import { createKubeClients } from '../activities/kube/client.ts';
import { decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import type { Quota } from '../common/tickets.ts';
import type { WorkloadInput } from '../common/workload-workflow.ts';
import { WorkloadSpecSchema, type WorkloadSpec } from '../common/workload.ts';
import { decideWorkloadDeploy, decideWorkloadRollback } from '../policies/workload.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { useTimeSkippingWorkers } from '../stack/testing/workflow-env.ts';
import type { TicketWorker } from '../worker/create-worker.ts';
import { workloadWorkflow } from './workload.ts';

const quota: Quota = { cpu: 4, memoryGi: 8, pods: 20 };
const domainId = 'workload-domain';
/** Set to record this file's histories as replay fixtures (`workflows/__fixtures__/workload-*.json`). */
const RECORD = process.env.EDGEPORT_RECORD_FIXTURES === '1';

const ts = useTimeSkippingWorkers({
  main: { queuePrefix: 'wl-wf' },
  /** A second worker with a late step armed to fail, on its own task queue. */
  failing: { queuePrefix: 'wl-wf-fail', failpoints: [FAILPOINTS.workerFailWorkloadRollout] },
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

const vdcAdmin = { sub: 'u-wl-admin', name: 'Workload Admin' };
const requester = { sub: 'u-wl-user', name: 'Workload User' };
const opsAdmin = { sub: 'u-wl-ops', name: 'Ops Admin' };

async function newVdc(): Promise<string> {
  const vdcId = uniqueName('wl');
  await seedVdc(tw.store, kube, { id: vdcId, name: vdcId, domainId, quota });
  await grant(tw.store, { ...requester, username: requester.sub, email: 'wl-user@test' }, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  return vdcId;
}

const vdcRef = (vdcId: string) => ({ id: vdcId, name: vdcId, domainId, namespace: `vdc-${vdcId}`, pool: 'local' });

/** A stored deploy ticket and its workflow input, with the policy decided as the API would. */
async function deployTicket(vdcId: string, workload: unknown): Promise<WorkloadInput> {
  const spec: WorkloadSpec = WorkloadSpecSchema.parse(workload);
  const vdc = vdcRef(vdcId);
  const workloads = (await tw.store.workloads.list(vdcId)).map((w) => ({ namespace: w.namespace, name: w.name, spec: w.spec }));
  const decision = decideWorkloadDeploy({ spec, namespace: vdc.namespace, spaces: [], workloads, requesterRoles: ['vdc-user'] });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const input: WorkloadInput = { ticketId: uniqueName('tkt'), requester, vdc, policy: decision, approvalTimeoutMs: 3_600_000, action: 'deploy', namespace: vdc.namespace, spec };
  await store(input, { type: 'workload-deploy', vdcId, workload: spec });
  return input;
}

async function rollbackTicket(vdcId: string, name: string, revision?: number): Promise<WorkloadInput> {
  const vdc = vdcRef(vdcId);
  const workloads = await tw.store.workloads.list(vdcId);
  const decision = decideWorkloadRollback({ name, namespace: vdc.namespace, ...(revision ? { revision } : {}), workloads });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const input: WorkloadInput = { ticketId: uniqueName('tkt'), requester, vdc, policy: decision, approvalTimeoutMs: 3_600_000, action: 'rollback', namespace: vdc.namespace, target: { name, ...(revision ? { revision } : {}) } };
  await store(input, { type: 'workload-rollback', vdcId, name, ...(revision ? { revision } : {}) });
  return input;
}

async function store(input: WorkloadInput, payload: Parameters<TicketWorker['store']['tickets']['insertOrGet']>[0]['payload']): Promise<void> {
  await tw.store.tickets.insertOrGet({
    _id: input.ticketId,
    type: payload.type,
    status: 'submitted',
    requester,
    vdc: input.vdc,
    payload,
    policy: input.policy,
    approvals: [],
    currentStep: null,
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
}

const start = (input: WorkloadInput, queue = taskQueue) => env.client.workflow.start(workloadWorkflow, { taskQueue: queue, workflowId: input.ticketId, args: [input] });

/** Runs the ticket through its approval chain (VDC admin, then ops admin when asked) and returns its result. */
async function approveAndRun(input: WorkloadInput, queue = taskQueue) {
  const handle = await start(input, queue);
  for (const [i, step] of input.policy.chain.entries()) {
    const s = await eventually(`step ${i + 1} pending`, async () => {
      const st = await handle.query(stateQuery);
      if (st.status !== 'submitted' && st.status !== 'pending_approval') return st;
      const ready = st.status === 'pending_approval' && !!st.preview && st.approvals[i]?.decision === undefined && (i === 0 || st.approvals[i - 1]?.decision === 'approve');
      return ready ? st : undefined;
    });
    if (s.status !== 'pending_approval') break;
    const actor = step.role === 'ops-admin' ? opsAdmin : vdcAdmin;
    await handle.executeUpdate(decideUpdate, { args: [{ actor, actorRoles: [step.role], decision: 'approve', previewHash: s.preview?.hash }] });
  }
  return { handle, result: await handle.result() };
}

async function record(handle: Awaited<ReturnType<typeof start>>, name: string): Promise<void> {
  if (!RECORD) return;
  writeFileSync(join(import.meta.dirname, '__fixtures__', `${name}.json`), historyToJSON(await handle.fetchHistory()));
}

const read = <T = KubernetesObject>(kind: string, apiVersion: string, namespace: string, name: string): Promise<T | undefined> =>
  admin.objects.read({ apiVersion, kind, metadata: { name, namespace } }).then(
    (o) => o as T,
    () => undefined,
  );

const container = (image: string, extra: Record<string, unknown> = {}) => ({
  name: 'app',
  image,
  requests: { cpu: '100m', memory: '64Mi' },
  limits: { cpu: '200m', memory: '128Mi' },
  ...extra,
});

async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface DeploymentLike {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; managedFields?: { manager?: string; operation?: string }[] };
  spec: { replicas: number; strategy: { type: string }; template: { spec: { containers: { image: string; env?: unknown[]; readinessProbe?: unknown; livenessProbe?: unknown }[]; nodeSelector?: Record<string, string> } } };
}

describe('workloadWorkflow', () => {
  it('deploy approved by a VDC admin: Deployment, Service, ConfigMap and PVC as specified, pods Running, revision recorded', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const input = await deployTicket(vdcId, {
      kind: 'Deployment',
      name: 'web',
      replicas: 1,
      strategy: 'Recreate',
      containers: [
        container('registry.invalid/web:1', {
          env: [{ name: 'MODE', value: 'prod' }, { name: 'GREETING', configMapRef: { name: 'web-config', key: 'greeting' } }],
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 8080 } },
          volumeMounts: [{ volume: 'web-data', mountPath: '/data' }],
        }),
      ],
      service: { type: 'NodePort', port: 80, targetPort: 8080 },
      configMaps: [{ name: 'web-config', data: { greeting: 'hello' } }],
      volumes: [{ name: 'web-data', size: '1Gi', accessMode: 'ReadWriteOnce', storageClass: 'kwok-volume' }],
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
    });
    expect(input.policy.chain.map((s) => s.role)).toEqual(['vdc-admin']);
    const { handle, result } = await approveAndRun(input);
    expect(result).toEqual({ status: 'completed', revision: 1, steps: ['apply', 'rollout', 'record'] });
    await record(handle, 'workload-deploy-approved');

    const dep = await read<DeploymentLike>('Deployment', 'apps/v1', namespace, 'web');
    expect(dep?.metadata.labels).toMatchObject({ 'edgeport.io/vdc': vdcId, 'edgeport.io/ticket': input.ticketId, 'app.kubernetes.io/name': 'web' });
    expect(dep?.metadata.managedFields?.some((f) => f.manager === 'edgeport' && f.operation === 'Apply')).toBe(true);
    expect(dep?.spec.strategy.type).toBe('Recreate');
    expect(dep?.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(dep?.spec.template.spec.containers[0]).toMatchObject({
      image: 'registry.invalid/web:1',
      env: [{ name: 'MODE', value: 'prod' }, { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'greeting' } } }],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 8080 } },
    });
    const svc = await read<{ spec: { type: string; ports: { port: number; nodePort?: number }[] } }>('Service', 'v1', namespace, 'web');
    expect(svc?.spec.type).toBe('NodePort');
    expect(svc?.spec.ports[0]).toMatchObject({ port: 80, nodePort: expect.any(Number) });
    expect((await read<{ data: Record<string, string> }>('ConfigMap', 'v1', namespace, 'web-config'))?.data).toEqual({ greeting: 'hello' });
    const pvc = await read<{ spec: { accessModes: string[]; storageClassName: string; resources: { requests: { storage: string } } } }>('PersistentVolumeClaim', 'v1', namespace, 'web-data');
    expect(pvc?.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], storageClassName: 'kwok-volume', resources: { requests: { storage: '1Gi' } } });
    const pods = await admin.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=web' });
    expect(pods.items.map((p) => p.status?.phase)).toEqual(['Running']);
    expect(pods.items[0]?.spec?.nodeName).toBe('edge-amd64-1');

    expect(await tw.store.workloads.get(namespace, 'web')).toMatchObject({ vdcId, kind: 'Deployment', revision: 1, ticketId: input.ticketId, revisions: [{ revision: 1, ticketId: input.ticketId }] });
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({ status: 'completed', preview: { action: 'deploy', revision: 1, errors: [], objects: expect.arrayContaining([{ kind: 'Deployment', name: 'web', action: 'create' }]) } });
  });

  it('upgrade keeps revision history; rollback to the previous revision restores the previous image', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const base = { kind: 'Deployment', name: 'api', replicas: 2 };
    expect((await approveAndRun(await deployTicket(vdcId, { ...base, containers: [container('registry.invalid/api:1')] }))).result.status).toBe('completed');
    const upgrade = await approveAndRun(await deployTicket(vdcId, { ...base, containers: [container('registry.invalid/api:2')] }));
    expect(upgrade.result).toMatchObject({ status: 'completed', revision: 2 });
    await record(upgrade.handle, 'workload-upgrade-approved');
    const image = async () => (await read<DeploymentLike>('Deployment', 'apps/v1', namespace, 'api'))?.spec.template.spec.containers[0]?.image;
    expect(await image()).toBe('registry.invalid/api:2');

    const rollback = await rollbackTicket(vdcId, 'api');
    expect(rollback.policy.reason).toBe('rollback of api to revision 1');
    const rolled = await approveAndRun(rollback);
    expect(rolled.result).toMatchObject({ status: 'completed', revision: 3 });
    await record(rolled.handle, 'workload-rollback-approved');
    expect(await image()).toBe('registry.invalid/api:1');
    const dep = await read<DeploymentLike>('Deployment', 'apps/v1', namespace, 'api');
    // The Deployment's own history: three rollouts, the third reusing revision 1's ReplicaSet.
    expect(dep?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(dep?.metadata.annotations?.['edgeport.io/revision']).toBe('3');
    const pods = await eventually('2 running pods of api:1', async () => {
      const { items } = await admin.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=api' });
      const running = items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
      return running.length === 2 && running.every((p) => p.spec?.containers[0]?.image === 'registry.invalid/api:1') ? running : undefined;
    });
    expect(pods).toHaveLength(2);
    const w = await tw.store.workloads.get(namespace, 'api');
    expect(w?.revisions.map((r) => [r.revision, r.spec.containers[0]?.image])).toEqual([
      [1, 'registry.invalid/api:1'],
      [2, 'registry.invalid/api:2'],
      [3, 'registry.invalid/api:1'],
    ]);
  });

  it('a failure after apply compensates in reverse: everything this ticket created is deleted, nothing recorded', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const input = await deployTicket(vdcId, {
      kind: 'Deployment',
      name: 'doomed',
      strategy: 'Recreate',
      containers: [container('registry.invalid/doomed:1', { volumeMounts: [{ volume: 'doomed-data', mountPath: '/d' }] })],
      service: { type: 'ClusterIP', port: 80 },
      configMaps: [{ name: 'doomed-config', data: { a: 'b' } }],
      volumes: [{ name: 'doomed-data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
    });
    const { handle, result } = await approveAndRun(input, failingQueue);
    expect(result).toEqual({
      status: 'compensated',
      error: 'step rollout failed: failpoint worker-fail-workload-rollout armed',
      steps: ['apply', 'compensated: delete objects'],
    });
    await record(handle, 'workload-deploy-compensated');
    for (const [kind, apiVersion, name] of [
      ['Deployment', 'apps/v1', 'doomed'],
      ['Service', 'v1', 'doomed'],
      ['ConfigMap', 'v1', 'doomed-config'],
      ['PersistentVolumeClaim', 'v1', 'doomed-data'],
    ] as const) {
      expect(await read(kind, apiVersion, namespace, name), `${kind}/${name}`).toBeUndefined();
    }
    expect((await admin.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=doomed' })).items).toEqual([]);
    expect(await tw.store.workloads.get(namespace, 'doomed')).toBeNull();
    expect((await tw.store.tickets.get(input.ticketId))?.status).toBe('compensated');
  });

  it('a privileged container needs the operations admin after the VDC admin', async () => {
    const vdcId = await newVdc();
    const input = await deployTicket(vdcId, { kind: 'Deployment', name: 'priv', containers: [container('registry.invalid/priv:1', { securityContext: { privileged: true } })] });
    expect(input.policy.chain.map((s) => s.role)).toEqual(['vdc-admin', 'ops-admin']);
    const handle = await start(input);
    const hash = await eventually('pending', async () => {
      const s = await handle.query(stateQuery);
      return s.status === 'pending_approval' ? s.preview?.hash : undefined;
    });
    await handle.executeUpdate(decideUpdate, { args: [{ actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: hash }] });
    const refused = await handle.executeUpdate(decideUpdate, { args: [{ actor: { sub: 'u-other-vdc-admin', name: 'x' }, actorRoles: ['vdc-admin'], decision: 'approve' }] }).catch((e: unknown) => e);
    expect((refused as { cause?: { message?: string } }).cause?.message).toBe('step 2 needs role ops-admin');
    await handle.executeUpdate(decideUpdate, { args: [{ actor: opsAdmin, actorRoles: ['ops-admin'], decision: 'approve' }] });
    expect((await handle.result()).status).toBe('completed');
  });

  it('preflight refuses against the cluster: a volume name taken outside Edgeport, and a field only the kube-apiserver rejects (dry-run)', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    await admin.core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name: 'taken' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    const taken = await deployTicket(vdcId, { kind: 'Deployment', name: 'vol', strategy: 'Recreate', containers: [container('x:1', { volumeMounts: [{ volume: 'taken', mountPath: '/t' }] })], volumes: [{ name: 'taken', size: '1Gi', accessMode: 'ReadWriteOnce' }] });
    const r1 = await (await start(taken)).result();
    expect(r1.status).toBe('failed');
    expect(r1.error).toContain(`storage rule unique-volume-name: volume taken already exists in namespace ${namespace}`);

    const bad = await deployTicket(vdcId, { kind: 'Deployment', name: 'bad', containers: [container('x:1', { imagePullPolicy: 'Sometimes' })] });
    const r2 = await (await start(bad)).result();
    expect(r2.status).toBe('failed');
    expect(r2.error).toMatch(/^preflight: Deployment .*\/bad: .*imagePullPolicy/);
    expect((await tw.store.tickets.get(bad.ticketId))?.preview?.hash).toEqual(expect.any(String));
    expect(await read('Deployment', 'apps/v1', namespace, 'bad')).toBeUndefined();

    const big = await deployTicket(vdcId, { kind: 'Deployment', name: 'big', replicas: 50, containers: [container('x:1')] });
    const r3 = await (await start(big)).result();
    expect(r3).toMatchObject({ status: 'failed', error: expect.stringContaining(`quota: pods would be 50 of 20 in ${namespace}`) });
  });
});
