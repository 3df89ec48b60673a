import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILPOINTS } from '../infra/failpoints.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import type { Quota } from '../common/tickets.ts';
import type { WorkloadInput } from '../common/workload-workflow.ts';
import { WorkloadSpecSchema, type WorkloadPreview, type WorkloadSpec } from '../common/workload.ts';
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
  /** One whose prune step fails after deleting, so the upgrade is compensated by restoring the previous revision. */
  failingPrune: { queuePrefix: 'wl-wf-fail-prune', failpoints: [FAILPOINTS.workerFailWorkloadPrune] },
});
let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let failingQueue: string;
let failingPruneQueue: string;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));

beforeAll(() => {
  env = ts.env;
  ({ tw, taskQueue } = ts.workers.main);
  failingQueue = ts.workers.failing.taskQueue;
  failingPruneQueue = ts.workers.failingPrune.taskQueue;
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
  const input: WorkloadInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc,
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    action: 'deploy',
    namespace: vdc.namespace,
    spec,
  };
  await store(input, { type: 'workload-deploy', vdcId, workload: spec });
  return input;
}

async function rollbackTicket(vdcId: string, name: string, revision?: number): Promise<WorkloadInput> {
  const vdc = vdcRef(vdcId);
  const workloads = await tw.store.workloads.list(vdcId);
  const decision = decideWorkloadRollback({ name, namespace: vdc.namespace, ...(revision ? { revision } : {}), workloads });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const input: WorkloadInput = {
    ticketId: uniqueName('tkt'),
    requester,
    vdc,
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    action: 'rollback',
    namespace: vdc.namespace,
    target: { name, ...(revision ? { revision } : {}) },
  };
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

const start = (input: WorkloadInput, queue = taskQueue) =>
  env.client.workflow.start(workloadWorkflow, { taskQueue: queue, workflowId: input.ticketId, args: [input] });

/** Runs the ticket through its approval chain (VDC admin, then ops admin when asked) and returns its result. */
async function approveAndRun(input: WorkloadInput, queue = taskQueue) {
  const handle = await start(input, queue);
  for (const [i, step] of input.policy.chain.entries()) {
    const s = await eventually(`step ${i + 1} pending`, async () => {
      const st = await handle.query(stateQuery);
      if (st.status !== 'submitted' && st.status !== 'pending_approval') return st;
      const ready =
        st.status === 'pending_approval' && !!st.preview && st.approvals[i]?.decision === undefined && (i === 0 || st.approvals[i - 1]?.decision === 'approve');
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
  spec: {
    replicas: number;
    strategy: { type: string };
    template: {
      spec: { containers: { image: string; env?: unknown[]; readinessProbe?: unknown; livenessProbe?: unknown }[]; nodeSelector?: Record<string, string> };
    };
  };
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
          env: [
            { name: 'MODE', value: 'prod' },
            { name: 'GREETING', configMapRef: { name: 'web-config', key: 'greeting' } },
          ],
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
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'greeting' } } },
      ],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 8080 } },
    });
    const svc = await read<{ spec: { type: string; ports: { port: number; nodePort?: number }[] } }>('Service', 'v1', namespace, 'web');
    expect(svc?.spec.type).toBe('NodePort');
    expect(svc?.spec.ports[0]).toMatchObject({ port: 80, nodePort: expect.any(Number) });
    expect((await read<{ data: Record<string, string> }>('ConfigMap', 'v1', namespace, 'web-config'))?.data).toEqual({ greeting: 'hello' });
    const pvc = await read<{ spec: { accessModes: string[]; storageClassName: string; resources: { requests: { storage: string } } } }>(
      'PersistentVolumeClaim',
      'v1',
      namespace,
      'web-data',
    );
    expect(pvc?.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], storageClassName: 'kwok-volume', resources: { requests: { storage: '1Gi' } } });
    const pods = await admin.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=web' });
    expect(pods.items.map((p) => p.status?.phase)).toEqual(['Running']);
    expect(pods.items[0]?.spec?.nodeName).toBe('edge-amd64-1');

    expect(await tw.store.workloads.get(namespace, 'web')).toMatchObject({
      vdcId,
      kind: 'Deployment',
      revision: 1,
      ticketId: input.ticketId,
      revisions: [{ revision: 1, ticketId: input.ticketId }],
    });
    expect(await tw.store.tickets.get(input.ticketId)).toMatchObject({
      status: 'completed',
      preview: { action: 'deploy', revision: 1, errors: [], objects: expect.arrayContaining([{ kind: 'Deployment', name: 'web', action: 'create' }]) },
    });
    // The cost preview: the 1 GiB volume the workload owns, as storage GiB-month under the book in force.
    const cost = ((await tw.store.tickets.get(input.ticketId))?.preview as WorkloadPreview | undefined)?.cost;
    expect(cost?.lines).toEqual([expect.objectContaining({ resource: 'storage', unit: 'GiB-month', current: '0.000000', proposed: '1.000000' })]);
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
    const input = await deployTicket(vdcId, {
      kind: 'Deployment',
      name: 'priv',
      containers: [container('registry.invalid/priv:1', { securityContext: { privileged: true } })],
    });
    expect(input.policy.chain.map((s) => s.role)).toEqual(['vdc-admin', 'ops-admin']);
    const handle = await start(input);
    const hash = await eventually('pending', async () => {
      const s = await handle.query(stateQuery);
      return s.status === 'pending_approval' ? s.preview?.hash : undefined;
    });
    await handle.executeUpdate(decideUpdate, { args: [{ actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: hash }] });
    const refused = await handle
      .executeUpdate(decideUpdate, { args: [{ actor: { sub: 'u-other-vdc-admin', name: 'x' }, actorRoles: ['vdc-admin'], decision: 'approve' }] })
      .catch((e: unknown) => e);
    expect((refused as { cause?: { message?: string } }).cause?.message).toBe('step 2 needs role ops-admin');
    await handle.executeUpdate(decideUpdate, { args: [{ actor: opsAdmin, actorRoles: ['ops-admin'], decision: 'approve' }] });
    expect((await handle.result()).status).toBe('completed');
  });

  it('preflight refuses against the cluster: a volume name taken outside Edgeport, and a field only the kube-apiserver rejects (dry-run)', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    await admin.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name: 'taken' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    const taken = await deployTicket(vdcId, {
      kind: 'Deployment',
      name: 'vol',
      strategy: 'Recreate',
      containers: [container('x:1', { volumeMounts: [{ volume: 'taken', mountPath: '/t' }] })],
      volumes: [{ name: 'taken', size: '1Gi', accessMode: 'ReadWriteOnce' }],
    });
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

  it("upgrade deletes the objects the new spec dropped (only the workload's, applied by edgeport) after the rollout", async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const v1 = {
      kind: 'Deployment',
      name: 'shop',
      strategy: 'Recreate',
      containers: [container('registry.invalid/shop:1', { volumeMounts: [{ volume: 'shop-cache', mountPath: '/c' }] })],
      service: { type: 'ClusterIP', port: 80 },
      configMaps: [
        { name: 'shop-config', data: { a: 'b' } },
        { name: 'shop-keep', data: { k: 'v' } },
      ],
      volumes: [{ name: 'shop-cache', size: '1Gi', accessMode: 'ReadWriteOnce' }],
    };
    expect((await approveAndRun(await deployTicket(vdcId, v1))).result.status).toBe('completed');
    // A look-alike someone labelled by hand (not applied by edgeport) is left alone.
    await admin.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'shop-hand', labels: { 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/managed-by': 'edgeport' } }, data: {} },
    });
    const v2 = {
      kind: 'Deployment',
      name: 'shop',
      strategy: 'Recreate',
      containers: [container('registry.invalid/shop:2')],
      configMaps: [{ name: 'shop-keep', data: { k: 'v2' } }],
    };
    const upgrade = await deployTicket(vdcId, v2);
    const { handle, result } = await approveAndRun(upgrade);
    expect(result).toEqual({ status: 'completed', revision: 2, steps: ['apply', 'rollout', 'prune', 'record'] });
    await record(handle, 'workload-upgrade-pruned');
    expect(((await tw.store.tickets.get(upgrade.ticketId))?.preview as WorkloadPreview | undefined)?.objects).toEqual(
      expect.arrayContaining([
        { kind: 'ConfigMap', name: 'shop-config', action: 'delete' },
        { kind: 'Service', name: 'shop', action: 'delete' },
        { kind: 'PersistentVolumeClaim', name: 'shop-cache', action: 'delete' },
        { kind: 'ConfigMap', name: 'shop-keep', action: 'update' },
      ]),
    );
    expect(await read('ConfigMap', 'v1', namespace, 'shop-config')).toBeUndefined();
    expect(await read('Service', 'v1', namespace, 'shop')).toBeUndefined();
    await eventually('PVC shop-cache gone', async () => ((await read('PersistentVolumeClaim', 'v1', namespace, 'shop-cache')) ? undefined : true));
    expect((await read<{ data: Record<string, string> }>('ConfigMap', 'v1', namespace, 'shop-keep'))?.data).toEqual({ k: 'v2' });
    expect(await read('ConfigMap', 'v1', namespace, 'shop-hand')).toBeDefined();
  });

  it('a failed prune is compensated: the previous revision is applied again, so the deleted objects come back', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const v1 = {
      kind: 'Deployment',
      name: 'cart',
      containers: [container('registry.invalid/cart:1')],
      service: { type: 'ClusterIP', port: 80 },
      configMaps: [{ name: 'cart-config', data: { a: 'b' } }],
    };
    expect((await approveAndRun(await deployTicket(vdcId, v1))).result.status).toBe('completed');
    const upgrade = await deployTicket(vdcId, { kind: 'Deployment', name: 'cart', containers: [container('registry.invalid/cart:2')] });
    const { handle, result } = await approveAndRun(upgrade, failingPruneQueue);
    expect(result).toEqual({
      status: 'compensated',
      error: 'step prune failed: failpoint worker-fail-workload-prune armed',
      steps: ['apply', 'rollout', 'compensated: restore revision 1'],
    });
    await record(handle, 'workload-upgrade-prune-compensated');
    expect((await read<{ data: Record<string, string> }>('ConfigMap', 'v1', namespace, 'cart-config'))?.data).toEqual({ a: 'b' });
    expect(
      (await read<{ metadata: { labels: Record<string, string> } }>('Service', 'v1', namespace, 'cart'))?.metadata.labels['edgeport.io/ticket'],
    ).toBeDefined();
    expect((await read<DeploymentLike>('Deployment', 'apps/v1', namespace, 'cart'))?.spec.template.spec.containers[0]?.image).toBe('registry.invalid/cart:1');
    expect((await tw.store.workloads.get(namespace, 'cart'))?.revision).toBe(1);
  });

  it('storage rule volume-in-use: preflight refuses an upgrade deleting a claim a pod outside Edgeport mounts', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const v1 = {
      kind: 'Deployment',
      name: 'files',
      replicas: 1,
      containers: [container('registry.invalid/files:1', { volumeMounts: [{ volume: 'files-shared', mountPath: '/s' }] })],
      volumes: [{ name: 'files-shared', size: '1Gi', accessMode: 'ReadWriteMany' }],
    };
    expect((await approveAndRun(await deployTicket(vdcId, v1))).result.status).toBe('completed');
    await admin.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'reader' },
        spec: {
          containers: [{ name: 'r', image: 'x:1', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '10m', memory: '16Mi' } } }],
          volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'files-shared' } }],
        },
      },
    });
    const upgrade = await deployTicket(vdcId, { kind: 'Deployment', name: 'files', containers: [container('registry.invalid/files:2')] });
    const r = await (await start(upgrade)).result();
    expect(r).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('storage rule volume-in-use: volume files-shared is mounted by pod reader and cannot be deleted'),
    });
    expect(await read('PersistentVolumeClaim', 'v1', namespace, 'files-shared')).toBeDefined();
  });

  it('an object edited out of band after approval sends the ticket back for approval; the new preview names the conflict', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const v1 = { kind: 'Deployment', name: 'drift', containers: [container('registry.invalid/drift:1')] };
    expect((await approveAndRun(await deployTicket(vdcId, v1))).result.status).toBe('completed');
    const upgrade = await deployTicket(vdcId, { ...v1, containers: [container('registry.invalid/drift:2')] });
    const handle = await start(upgrade);
    const first = await eventually('pending', async () => {
      const s = await handle.query(stateQuery);
      return s.status === 'pending_approval' ? s.preview : undefined;
    });
    expect((first as WorkloadPreview | undefined)?.conflicts).toBeUndefined();
    await admin.objects.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'drift', namespace },
        spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.invalid/drift:hotfix' }] } } },
      } as KubernetesObject,
      undefined,
      undefined,
      'intruder',
      undefined,
      PatchStrategy.StrategicMergePatch,
    );
    await handle.executeUpdate(decideUpdate, { args: [{ actor: vdcAdmin, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: first?.hash }] });
    const again = await eventually('back to approval', async () => {
      const s = await handle.query(stateQuery);
      return s.status === 'pending_approval' && s.approvalResets?.length === 1 ? s : undefined;
    });
    expect(again.approvalResets?.[0]).toMatchObject({
      previousHash: first?.hash,
      newHash: again.preview?.hash,
      reason: expect.stringMatching(/^objects of drift in .* changed after approval/),
    });
    expect(again.preview?.hash).not.toBe(first?.hash);
    expect((again.preview as { conflicts?: string[] }).conflicts?.[0]).toMatch(/^Deployment .*\/drift: .*conflict with "intruder".*image/);
    // Nothing was applied: the hotfix is still what runs.
    expect((await read<DeploymentLike>('Deployment', 'apps/v1', namespace, 'drift'))?.spec.template.spec.containers[0]?.image).toBe(
      'registry.invalid/drift:hotfix',
    );
    const stale = await handle
      .executeUpdate(decideUpdate, {
        args: [{ actor: { sub: 'u-wl-admin-2', name: 'Second Admin' }, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: first?.hash }],
      })
      .catch((e: unknown) => e);
    expect((stale as { cause?: { message?: string } }).cause?.message).toMatch(/preview changed/);
    await handle.executeUpdate(decideUpdate, {
      args: [{ actor: { sub: 'u-wl-admin-2', name: 'Second Admin' }, actorRoles: ['vdc-admin'], decision: 'approve', previewHash: again.preview?.hash }],
    });
    expect(await handle.result()).toMatchObject({ status: 'completed', revision: 2, steps: ['apply', 'rollout', 'record'] });
    await record(handle, 'workload-upgrade-reapproved');
    expect((await read<DeploymentLike>('Deployment', 'apps/v1', namespace, 'drift'))?.spec.template.spec.containers[0]?.image).toBe('registry.invalid/drift:2');
  });
});

describe('workloadWorkflow: kinds, exposure, scheduling and volume growth on the kube-apiserver', () => {
  it('a Job runs to completion and a CronJob is scheduled, both as specified', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const job = await deployTicket(vdcId, {
      kind: 'Job',
      name: 'migrate',
      job: { completions: 2, parallelism: 1, backoffLimit: 1, restartPolicy: 'Never' },
      containers: [container('registry.invalid/migrate:1', { command: ['migrate'] })],
    });
    expect((await approveAndRun(job)).result).toEqual({ status: 'completed', revision: 1, steps: ['apply', 'rollout', 'record'] });
    const j = await read<{
      spec: {
        completions: number;
        parallelism: number;
        backoffLimit: number;
        template: { spec: { restartPolicy: string; containers: { command: string[] }[] } };
      };
      status: { succeeded?: number; conditions?: { type: string; status: string }[] };
    }>('Job', 'batch/v1', namespace, 'migrate');
    expect(j?.spec).toMatchObject({
      completions: 2,
      parallelism: 1,
      backoffLimit: 1,
      template: { spec: { restartPolicy: 'Never', containers: [{ command: ['migrate'] }] } },
    });
    expect(j?.status.succeeded).toBe(2);
    expect(j?.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Complete', status: 'True' })]));

    const cron = await deployTicket(vdcId, {
      kind: 'CronJob',
      name: 'report',
      schedule: '*/15 * * * *',
      job: { backoffLimit: 2 },
      containers: [container('registry.invalid/report:1')],
    });
    expect((await approveAndRun(cron)).result).toMatchObject({ status: 'completed', revision: 1 });
    const c = await read<{
      metadata: { labels: Record<string, string> };
      spec: { schedule: string; concurrencyPolicy: string; jobTemplate: { spec: { backoffLimit: number; template: { spec: { restartPolicy: string } } } } };
    }>('CronJob', 'batch/v1', namespace, 'report');
    expect(c?.metadata.labels['edgeport.io/ticket']).toBe(cron.ticketId);
    expect(c?.spec).toMatchObject({
      schedule: '*/15 * * * *',
      concurrencyPolicy: 'Forbid',
      jobTemplate: { spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure' } } } },
    });
  });

  it('a LoadBalancer Service and an Ingress with host, TLS secret, timeouts and body size as ingress-nginx annotations', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const input = await deployTicket(vdcId, {
      kind: 'Deployment',
      name: 'storefront',
      containers: [container('registry.invalid/storefront:1', { ports: [{ containerPort: 8080 }] })],
      service: { type: 'LoadBalancer', port: 443, targetPort: 8080 },
      ingress: {
        host: 'shop.example.com',
        path: '/api',
        tlsSecretName: 'shop-tls',
        connectTimeoutSeconds: 5,
        readTimeoutSeconds: 120,
        sendTimeoutSeconds: 60,
        bodySize: '16m',
      },
    });
    expect((await approveAndRun(input)).result.status).toBe('completed');
    const svc = await read<{ spec: { type: string; ports: { port: number; targetPort: number; nodePort?: number }[] } }>(
      'Service',
      'v1',
      namespace,
      'storefront',
    );
    expect(svc?.spec.type).toBe('LoadBalancer');
    expect(svc?.spec.ports[0]).toMatchObject({ port: 443, targetPort: 8080, nodePort: expect.any(Number) });
    const ing = await read<{ metadata: { annotations: Record<string, string> }; spec: unknown }>('Ingress', 'networking.k8s.io/v1', namespace, 'storefront');
    expect(ing?.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-connect-timeout': '5',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '120',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '60',
      'nginx.ingress.kubernetes.io/proxy-body-size': '16m',
    });
    expect(ing?.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [
        {
          host: 'shop.example.com',
          http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'storefront', port: { number: 443 } } } }] },
        },
      ],
    });
  });

  it('affinity to another workload: the pods land beside its pods (podAffinity by workload label), spread from each other', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    expect(
      (await approveAndRun(await deployTicket(vdcId, { kind: 'Deployment', name: 'cache', containers: [container('registry.invalid/cache:1')] }))).result
        .status,
    ).toBe('completed');
    const input = await deployTicket(vdcId, {
      kind: 'Deployment',
      name: 'app',
      containers: [container('registry.invalid/app:1')],
      affinity: [
        { workload: 'cache', type: 'affinity', required: true },
        { workload: 'app', type: 'anti-affinity', topologyKey: 'kubernetes.io/arch' },
      ],
    });
    expect((await approveAndRun(input)).result.status).toBe('completed');
    const dep = await read<{ spec: { template: { spec: { affinity: unknown } } } }>('Deployment', 'apps/v1', namespace, 'app');
    expect(dep?.spec.template.spec.affinity).toEqual({
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'cache' } }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'app' } }, topologyKey: 'kubernetes.io/arch' } },
        ],
      },
    });
    const nodeOf = async (name: string) =>
      (await admin.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${name}` })).items.map((p) => p.spec?.nodeName);
    expect(await nodeOf('app')).toEqual(await nodeOf('cache'));
  });

  it('an upgrade grows a volume (PVC expansion); shrinking it is refused naming the field', async () => {
    const vdcId = await newVdc();
    const namespace = `vdc-${vdcId}`;
    const v = (size: string) => ({
      kind: 'StatefulSet',
      name: 'pg',
      containers: [container('registry.invalid/pg:1', { volumeMounts: [{ volume: 'pg-data', mountPath: '/var/lib/pg' }] })],
      volumes: [{ name: 'pg-data', size, accessMode: 'ReadWriteOnce' }],
    });
    expect((await approveAndRun(await deployTicket(vdcId, v('1Gi')))).result.status).toBe('completed');
    await eventually('pg-data bound', async () =>
      (await read<{ status: { phase: string } }>('PersistentVolumeClaim', 'v1', namespace, 'pg-data'))?.status.phase === 'Bound' ? true : undefined,
    );
    const grow = await deployTicket(vdcId, v('2Gi'));
    const { result } = await approveAndRun(grow);
    expect(result).toMatchObject({ status: 'completed', revision: 2 });
    expect(((await tw.store.tickets.get(grow.ticketId))?.preview as WorkloadPreview | undefined)?.objects).toContainEqual({
      kind: 'PersistentVolumeClaim',
      name: 'pg-data',
      action: 'update',
    });
    const pvc = await read<{ spec: { resources: { requests: { storage: string } } } }>('PersistentVolumeClaim', 'v1', namespace, 'pg-data');
    expect(pvc?.spec.resources.requests.storage).toBe('2Gi');

    const workloads = (await tw.store.workloads.list(vdcId)).map((w) => ({ namespace: w.namespace, name: w.name, spec: w.spec }));
    const shrink = decideWorkloadDeploy({ spec: WorkloadSpecSchema.parse(v('1Gi')), namespace, spaces: [], workloads, requesterRoles: ['vdc-user'] });
    expect(shrink).toMatchObject({
      outcome: 'deny',
      field: 'workload.volumes.0.size',
      reason: 'volume pg-data cannot shrink from 2Gi to 1Gi (workload.volumes.0.size): a volume can only grow',
    });
    // Against the cluster too (a record older than the claim): the preflight refuses, nothing is applied.
    const input: WorkloadInput = {
      ticketId: uniqueName('tkt'),
      requester,
      vdc: vdcRef(vdcId),
      policy: { version: 'test', outcome: 'approval', reason: 'test', chain: [{ step: 0, role: 'vdc-admin', label: 'VDC admin' }] },
      approvalTimeoutMs: 3_600_000,
      action: 'deploy',
      namespace,
      spec: WorkloadSpecSchema.parse(v('1Gi')),
    };
    await store(input, { type: 'workload-deploy', vdcId, workload: input.spec as WorkloadSpec });
    const r = await (await start(input)).result();
    expect(r).toMatchObject({ status: 'failed', error: expect.stringContaining('volume pg-data cannot shrink from 2Gi to 1Gi (workload.volumes.0.size)') });
  });
});
