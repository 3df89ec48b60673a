import { writeFileSync } from 'node:fs';
import { PatchStrategy } from '@kubernetes/client-node';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { createKubeClients } from '../infra/kube/client.ts';
import { verifyLedger } from '../services/ledger-verify.ts';
import type { VolumeView } from '../common/volumes.ts';
import { WorkloadSpecSchema } from '../common/workload.ts';
import { decideWorkloadDeploy } from '../policies/workload.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Standalone volumes over HTTP against the real stack: create, expand (grow only), the seed's rule that a
 * volume in use cannot be deleted (recorded mounts and live ones), delete when unused, tenant isolation.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('vol');
const otherVdc = uniqueName('volo');
const ns = namespaceOf(vdcId);

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login } = testHttp({ prefix: '/api' });

const path = `/vdcs/${vdcId}/volumes`;
const pvc = (name: string): Promise<any> =>
  kube.objects.read({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns } }).then(
    (o) => o,
    () => undefined,
  );

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not happen in time`);
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Volume VDC', domainId: 'vol-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await seedVdc(store, kube, { id: otherVdc, name: 'Other volume VDC', domainId: 'vol-domain', quota: { cpu: 1, memoryGi: 1, pods: 5 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('other')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId: otherVdc } }]);
  api = startApp(repoDir, 'api', env);
  // Generous start-up: the api and the worker (webpack bundle) start together on a shared, busy machine.
  const w = startApp(repoDir, 'worker', env);
  await Promise.all([waitForWorker(w, 240_000), waitForApi(api, base, 240_000)]);
  worker = w;
  await login('tenant', 'other');
}, 300_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('volumes over HTTP', () => {
  it('refuses bad input naming the field, and a name another workload of the VDC owns naming the rule', async () => {
    for (const [body, field] of [
      [{ name: 'Data', size: '1Gi', accessMode: 'ReadWriteOnce' }, 'name'],
      [{ name: 'data', size: '1GB', accessMode: 'ReadWriteOnce' }, 'size'],
      [{ name: 'data', size: '1Gi', accessMode: 'ReadOnlyMany' }, 'accessMode'],
      [{ name: 'data', size: '1Gi', accessMode: 'ReadWriteOnce', space: 'nope' }, 'space'],
    ] as const) {
      const r = await call('tenant', 'POST', path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    await store.workloads.recordRevision({
      vdcId,
      namespace: ns,
      name: 'pg',
      kind: 'StatefulSet',
      revision: 1,
      spec: WorkloadSpecSchema.parse({
        kind: 'StatefulSet',
        name: 'pg',
        containers: [{ name: 'pg', image: 'registry.invalid/pg:1' }],
        volumes: [{ name: 'pg-data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
      }),
      ticketId: 't-pg',
    });
    const taken = await call('tenant', 'POST', path, { name: 'pg-data', size: '1Gi', accessMode: 'ReadWriteOnce' });
    expect(taken.status).toBe(422);
    expect(taken.body.detail).toContain('storage rule unique-volume-name');
    expect(taken.body.errors[0].field).toBe('name');
    expect(await pvc('pg-data')).toBeUndefined();
  });

  it('creates a volume with access mode and storage class, then expands it (grow only)', async () => {
    const created = await call('tenant', 'POST', path, { name: 'data', size: '1Gi', accessMode: 'ReadWriteOnce', storageClass: 'kwok-volume' });
    expect(created.status).toBe(201);
    const claim = await pvc('data');
    expect(claim?.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], storageClassName: 'kwok-volume', resources: { requests: { storage: '1Gi' } } });
    expect(claim?.metadata.labels).toMatchObject({ 'edgeport.io/vdc': vdcId, 'edgeport.io/volume': 'data', 'app.kubernetes.io/managed-by': 'edgeport' });
    expect((await call('tenant', 'POST', path, { name: 'data', size: '1Gi', accessMode: 'ReadWriteOnce' })).status).toBe(422);

    await eventually('data bound', async () => ((await pvc('data'))?.status?.phase === 'Bound' ? true : undefined));
    const shrink = await call('tenant', 'POST', `${path}/data/expand`, { size: '512Mi' });
    expect(shrink.status).toBe(400);
    expect(shrink.body.errors[0]).toMatchObject({ field: 'size', message: 'volume data cannot shrink from 1Gi to 512Mi: a volume can only grow' });
    const grow = await call('tenant', 'POST', `${path}/data/expand`, { size: '2Gi' });
    expect(grow.status, JSON.stringify(grow.body)).toBe(200);
    expect((await pvc('data'))?.spec.resources.requests.storage).toBe('2Gi');
    // The owning workload's deploy manages its own volumes.
    expect((await call('tenant', 'POST', `${path}/pg-data/expand`, { size: '2Gi' })).status).toBe(409);

    const list = (await call('tenant', 'GET', path)).body.items as VolumeView[];
    expect(list.find((v) => v.name === 'data')).toMatchObject({
      namespace: ns,
      managedBy: 'volume',
      size: '2Gi',
      accessMode: 'ReadWriteOnce',
      storageClass: 'kwok-volume',
      phase: 'Bound',
      mountedBy: [],
    });
    expect(list.find((v) => v.name === 'pg-data')).toMatchObject({ managedBy: 'workload', owner: 'pg', mountedBy: ['workload pg'] });
  });

  it('a standalone volume is mountable with existing: true in a workload spec (and counts for the RWO rules)', async () => {
    const volumes = await store.volumes.list(vdcId);
    const spec = (name: string, replicas = 1) =>
      WorkloadSpecSchema.parse({
        kind: 'Deployment',
        name,
        replicas,
        strategy: 'Recreate',
        containers: [{ name: 'app', image: 'registry.invalid/app:1', volumeMounts: [{ volume: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', existing: true }],
      });
    expect(decideWorkloadDeploy({ spec: spec('app'), namespace: ns, spaces: [], workloads: [], volumes, requesterRoles: ['vdc-user'] }).outcome).toBe(
      'approval',
    );
    expect(decideWorkloadDeploy({ spec: spec('app'), namespace: ns, spaces: [], workloads: [], requesterRoles: ['vdc-user'] })).toMatchObject({
      outcome: 'deny',
      field: 'workload.volumes.0.name',
    });
    expect(decideWorkloadDeploy({ spec: spec('app', 2), namespace: ns, spaces: [], workloads: [], volumes, requesterRoles: ['vdc-user'] })).toMatchObject({
      outcome: 'deny',
      reason: expect.stringContaining('storage rule rwo-single-replica'),
    });
  });

  it('a volume in use cannot be deleted (storage rule volume-in-use), by a recorded workload or a live pod', async () => {
    await store.workloads.recordRevision({
      vdcId,
      namespace: ns,
      name: 'app',
      kind: 'Deployment',
      revision: 1,
      spec: WorkloadSpecSchema.parse({
        kind: 'Deployment',
        name: 'app',
        replicas: 1,
        strategy: 'Recreate',
        containers: [{ name: 'app', image: 'registry.invalid/app:1', volumeMounts: [{ volume: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', existing: true }],
      }),
      ticketId: 't-app',
    });
    const recorded = await call('tenant', 'DELETE', `${path}/data`);
    expect(recorded.status).toBe(422);
    expect(recorded.body.detail).toBe('storage rule volume-in-use: volume data is mounted by workload app and cannot be deleted');
    expect(recorded.body.errors[0].field).toBe('name');
    await store.testing.collection('workloads').deleteOne({ _id: `${ns}/app` as never });

    // A pod made outside Edgeport mounting the claim holds it too (read live by the worker).
    await kube.objects.patch(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'debug', namespace: ns },
        spec: {
          containers: [
            { name: 'c', image: 'registry.invalid/x:1', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '10m', memory: '16Mi' } } },
          ],
          volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
        },
      } as never,
      undefined,
      undefined,
      'test',
      true,
      PatchStrategy.ServerSideApply,
    );
    const live = await call('tenant', 'DELETE', `${path}/data`);
    expect(live.status).toBe(422);
    expect(live.body.detail).toBe('storage rule volume-in-use: volume data is mounted by pod debug and cannot be deleted');
    expect((await call('tenant', 'GET', path)).body.items.find((v: VolumeView) => v.name === 'data').mountedBy).toEqual(['pod debug']);
    expect(await pvc('data')).toBeDefined();
    await kube.objects.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: ns } }, undefined, undefined, 0);
  });

  it("another VDC's tenant gets 404; deleting an unused volume removes the claim, audited", async () => {
    expect((await call('other', 'GET', path)).status).toBe(404);
    expect((await call('other', 'DELETE', `${path}/data`)).status).toBe(404);
    await eventually('debug pod gone', async () => ((await kube.core.listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined));
    const r = await call('tenant', 'DELETE', `${path}/data`);
    expect(r.status, JSON.stringify(r.body)).toBe(204);
    await eventually('claim gone', async () => ((await pvc('data')) === undefined || (await pvc('data'))?.metadata.deletionTimestamp ? true : undefined));
    expect((await call('tenant', 'GET', path)).body.items.map((v: VolumeView) => v.name)).toEqual(['pg-data']);
    const actions = (
      await store.testing
        .collection(AUDIT_COLLECTION)
        .find({ target: `vdc:${vdcId}/volume:${ns}/data` })
        .toArray()
    ).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(['volume.create:success', 'volume.expand:success', 'volume.delete:failure', 'volume.delete:failure', 'volume.delete:success']);
  });

  it('metered: create, expand and delete each write a volume.storage line from their workflow history, which verify rebuilds', async () => {
    const lines = (await store.ledger.list([vdcId])).filter((l) => l.fact === 'volume.storage').sort((a, b) => a.start.getTime() - b.start.getTime());
    expect(lines.map((l) => [l.subject, l.quantities.storageGi, l.units.storageGi])).toEqual([
      [`${ns}/data`, 1, 'GiB'],
      [`${ns}/data`, 2, 'GiB'],
      [`${ns}/data`, 0, 'GiB'],
    ]);
    expect(lines.every((l) => l.domainId === 'vol-domain' && l.pool === 'local' && l._id === `${l.workflowId}/${l.runId}/${l.eventId}`)).toBe(true);
    const temporal = new Client({
      connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
      namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
    });
    try {
      const r = await verifyLedger({ temporal, storedLines: (ids) => store.ledger.list(ids) }, { vdcIds: [vdcId] });
      expect(r.differences).toEqual([]);
      expect(r.rebuiltLines).toBe(3);
      // EDGEPORT_RECORD_FIXTURES=1 saves the expand run as a replay fixture.
      if (process.env.EDGEPORT_RECORD_FIXTURES === '1') {
        const history = await temporal.workflow.getHandle(lines[1]!.workflowId).fetchHistory();
        writeFileSync(new URL('../workflows/__fixtures__/volume-expand-metered.json', import.meta.url), historyToJSON(history));
      }
    } finally {
      await temporal.connection.close();
    }
  });
});
