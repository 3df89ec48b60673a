import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { readQuota } from '../infra/kube/quota.ts';
import { LIMIT_RANGE_NAME, readNamespace } from '../infra/kube/space.ts';
import { harborDriver } from '../infra/registry/harbor-driver.ts';
import { accessService } from '../api/services/access.ts';
import { harborVdcProvisioning } from '../api/services/harbor-provisioning.ts';
import { tenancyService } from '../api/services/tenancy.ts';
import { vdcLifecycle } from '../api/services/vdc-lifecycle.ts';
import { harborVdcProvisionId } from '../common/harbor-vdc-provision.ts';
import type { RoleBinding } from '../common/roles.ts';
import type { Quota } from '../common/tickets.ts';
import { vdcLifecycleId, VDC_OWNER_ANNOTATION } from '../common/vdc-lifecycle.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { credentialCipher } from '../store/credentials.ts';
import { poolCredentialsAad } from '../store/pools.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * A VDC's lifecycle end to end on the stack's Temporal dev server, MongoDB and kube-apiserver, with a real ticket
 * worker whose registry is Harbor (the contract server): creating a VDC through the tenancy service provisions its
 * default namespace, quota, limit range and role bindings on every pool; member changes reach the RoleBindings of
 * every namespace of the VDC; deleting it leaves nothing on any pool nor in Harbor; a pool whose credentials cannot
 * be opened ends the VDC `failed` naming the pool, and a retry after fixing the pool ends `ready`.
 * The second pool is a second registration of the local cluster under another id (until the stack's `edge-1`
 * lands), so its namespace `vdc-<id>-<pool>` is on the same kube-apiserver.
 * With EDGEPORT_RECORD_FIXTURES=1 the runs are written to `__fixtures__/vdc-lifecycle-*.json`.
 */
let harbor: FakeHarbor;
let tw: TicketWorker;
let run: Promise<void>;
let temporal: Client;
const taskQueue = uniqueName('vdc-life');
const key = stackEnv('EDGEPORT_CREDENTIALS_KEY');
const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
const domainId = uniqueName('lfd');
const twin = uniqueName('twin');
const broken = uniqueName('brk');
const caller = { sub: 'ops-life', name: 'Ops Life', bindings: [], grants: [] };
const record = process.env.EDGEPORT_RECORD_FIXTURES === '1';
let tenancy: ReturnType<typeof tenancyService>;
let access: ReturnType<typeof accessService>;

/** Registers the local cluster again as pool `id` (sealed for that id), or with credentials sealed for another id. */
async function registerLocalAs(id: string, opts: { unreadable?: boolean } = {}): Promise<void> {
  const cipher = credentialCipher(key);
  const local = await tw.store.pools.sealed('local');
  const plain = cipher.open(local!.credentials, poolCredentialsAad('local'));
  const sealed = cipher.seal(plain, poolCredentialsAad(opts.unreadable ? 'local' : id));
  await tw.store.pools.upsert({
    _id: id,
    name: id,
    server: local!.server,
    authType: 'kubeconfig',
    credentials: sealed,
    createdBy: { sub: 'test', name: 'Test' },
  });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 300));
    last = await read();
  }
  return last;
}

const stateOf = async (vdcId: string) => (await tw.store.vdcs.get(vdcId))?.provisioning;
const subjectsOf = async (namespace: string, name: string): Promise<string[]> => {
  try {
    const rb = await kube.objects.read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace } });
    return ((rb as { subjects?: { name: string }[] }).subjects ?? []).map((s) => s.name).sort();
  } catch {
    return ['<absent>'];
  }
};

async function saveFixture(vdcId: string, file: string): Promise<void> {
  const handle = temporal.workflow.getHandle(vdcLifecycleId(vdcId));
  await handle.result();
  if (record) writeFileSync(join(import.meta.dirname, '__fixtures__', file), historyToJSON(await handle.fetchHistory()));
}

async function bind(sub: string, compute: (current: readonly RoleBinding[]) => RoleBinding[]): Promise<void> {
  await access.changeBindings(caller, sub, compute, async () => undefined, {});
}

beforeAll(async () => {
  harbor = await startFakeHarbor();
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  tw = await createTicketWorker({
    temporalAddress: stackEnv('EDGEPORT_TEMPORAL_ADDRESS'),
    temporalNamespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
    mongoUrl: stackEnv('EDGEPORT_MONGO_URL'),
    taskQueue,
    credentials: { key, previousKeys: [] },
    registry: { driver: 'harbor', url: harbor.url, username: harbor.username, password: harbor.password, robotDurationDays: 30, projectStorageGi: 20 },
    worker: testWorkerOptions(),
  });
  run = tw.worker.run();
  await tw.store.domains.create({ _id: domainId, name: domainId });
  await registerLocalAs(twin);
  const audit = tw.store.audit;
  const lifecycle = vdcLifecycle({ temporal, taskQueue });
  access = accessService({ store: tw.store, audit, vdcLifecycle: lifecycle });
  tenancy = tenancyService({ store: tw.store, audit, access, vdcLifecycle: lifecycle, registryProvisioning: harborVdcProvisioning({ temporal, taskQueue }) });
}, 300_000);

afterAll(async () => {
  tw?.worker.shutdown();
  await run;
  for (const id of [twin, broken]) await tw?.store.pools.remove(id).catch(() => undefined);
  await tw?.store.domains.remove(domainId);
  await tw?.shutdown();
  await temporal?.connection.close();
  await harbor?.close();
});

describe('VDC lifecycle workflow', () => {
  const q1 = { cpu: 2, memoryGi: 4, pods: 10 } satisfies Quota;
  const q2 = { cpu: 1, memoryGi: 2, pods: 5 } satisfies Quota;
  const vdcId = uniqueName('lf');
  const ns1 = `vdc-${vdcId}`;
  const ns2 = `vdc-${vdcId}-${twin}`;
  const spaceNs = `${vdcId}-s1`;
  const [u1, u2] = [uniqueName('u-adm'), uniqueName('u-usr')];

  it('creating a VDC on two pools provisions namespace, quota, limit range and role bindings on each; it ends ready', async () => {
    const view = await tenancy.createVdc(
      caller,
      domainId,
      {
        id: vdcId,
        name: 'Life',
        pools: [
          { pool: 'local', quota: q1 },
          { pool: twin, quota: q2 },
        ],
      },
      {},
    );
    expect(view.provisioning?.state).toBe('provisioning');
    await saveFixture(vdcId, 'vdc-lifecycle-provision.json');
    expect(await stateOf(vdcId)).toMatchObject({ state: 'ready' });
    expect((await tw.store.vdcs.get(vdcId))?.namespaceStatus).toBe('active');
    for (const [ns, quota] of [
      [ns1, q1],
      [ns2, q2],
    ] as const) {
      const n = await readNamespace(kube, ns);
      expect(n?.metadata?.labels).toMatchObject({ 'edgeport.io/vdc': vdcId, 'edgeport.io/domain': domainId, 'app.kubernetes.io/managed-by': 'edgeport' });
      expect(n?.metadata?.annotations?.[VDC_OWNER_ANNOTATION]).toBe(vdcId);
      // A VDC created without a storage value holds the default storage quota (100 GiB) beside what it asked for.
      expect((await readQuota(kube, ns)).hard).toEqual({ ...quota, storageGi: 100 });
      expect((await kube.core.readNamespacedLimitRange({ name: LIMIT_RANGE_NAME, namespace: ns })).metadata?.name).toBe(LIMIT_RANGE_NAME);
      for (const rb of ['edgeport-admin', 'edgeport-edit', 'edgeport-view']) expect(await subjectsOf(ns, rb)).toEqual([]);
    }
    // Harbor provisioning ran too (its projects are removed by the deletion below).
    await temporal.workflow.getHandle(harborVdcProvisionId(vdcId)).result();
  });

  it('member changes reach the RoleBindings of every namespace of the VDC, application spaces included', async () => {
    // A ticket-made application space of the VDC (namespace made here as the space workflow would).
    await kube.core.createNamespace({ body: { metadata: { name: spaceNs, labels: { 'edgeport.io/vdc': vdcId, 'edgeport.io/space': 's1' } } } });
    await tw.store.spaces.record(vdcId, {
      name: 's1',
      namespace: spaceNs,
      status: 'active',
      ticketId: 'tkt-test',
      createdAt: new Date().toISOString(),
      pool: 'local',
    });
    for (const u of [u1, u2]) await tw.store.users.upsert({ _id: u, username: u, name: u, email: `${u}@test`, bindings: [] });
    await bind(u1, (c) => [...c, { role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
    await bind(u2, (c) => [...c, { role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
    for (const ns of [ns1, ns2, spaceNs]) {
      await until(
        `admin binding in ${ns}`,
        () => subjectsOf(ns, 'edgeport-admin'),
        (s) => s.includes(`oidc:${u1}`),
      );
      await until(
        `edit binding in ${ns}`,
        () => subjectsOf(ns, 'edgeport-edit'),
        (s) => s.includes(`oidc:${u2}`),
      );
    }
    await saveFixture(vdcId, 'vdc-lifecycle-members.json');

    await bind(u2, (c) => c.filter((b) => !(b.scope.type === 'vdc' && b.scope.vdcId === vdcId)));
    for (const ns of [ns1, ns2, spaceNs]) {
      expect(
        await until(
          `edit binding in ${ns} without ${u2}`,
          () => subjectsOf(ns, 'edgeport-edit'),
          (s) => !s.includes(`oidc:${u2}`),
        ),
      ).toEqual([]);
      expect(await subjectsOf(ns, 'edgeport-admin')).toEqual([`oidc:${u1}`]);
    }
    expect(await stateOf(vdcId)).toMatchObject({ state: 'ready' });
  });

  it('deleting the VDC (202, deleting) removes its namespace on every pool, its Harbor projects and robot, bindings and record', async () => {
    // A ticket-made space refuses the deletion, as do open tickets.
    await expect(tenancy.deleteVdc(caller, vdcId, {})).rejects.toThrow(/live application space \(namespace .*-s1\)/);
    await tw.store.spaces.remove(vdcId, 's1');
    await kube.core.deleteNamespace({ name: spaceNs });

    const view = await tenancy.deleteVdc(caller, vdcId, {});
    expect(view.provisioning?.state).toBe('deleting');
    expect((await tenancy.getVdc(vdcId)).provisioning?.state).toBe('deleting');
    await until(
      'VDC record removed',
      () => tw.store.vdcs.get(vdcId),
      (v) => v === null,
      180_000,
    );
    await saveFixture(vdcId, 'vdc-lifecycle-delete.json');
    for (const ns of [ns1, ns2]) expect(await readNamespace(kube, ns)).toBeUndefined();
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    expect(await admin.getNamespace(`vdc-${vdcId}`)).toBeNull();
    expect(await admin.getNamespace(`staging-${vdcId}`)).toBeNull();
    expect(await admin.getNamespace('public')).not.toBeNull();
    expect((await tw.store.users.get(u1))?.bindings).toEqual([]);
    const entries = await tw.store.testing
      .collection(AUDIT_COLLECTION)
      .find({ target: `vdc:${vdcId}` })
      .toArray();
    expect(entries.map((e) => [e.action, e.outcome])).toEqual(
      expect.arrayContaining([
        ['vdc.delete-requested', 'success'],
        ['vdc.delete', 'success'],
      ]),
    );
    expect(
      (
        await tw.store.testing
          .collection(AUDIT_COLLECTION)
          .find({ target: `user:${u1}`, action: 'binding.revoke' })
          .toArray()
      ).length,
    ).toBe(1);
    expect(harbor.problems()).toEqual([]);
  });

  it('a pool whose credentials cannot be opened ends the VDC failed naming the pool; a retry after fixing it ends ready', async () => {
    await registerLocalAs(broken, { unreadable: true });
    const id = uniqueName('lf');
    await tenancy.createVdc(
      caller,
      domainId,
      {
        id,
        name: 'Broken',
        pools: [
          { pool: 'local', quota: q2 },
          { pool: broken, quota: q2 },
        ],
      },
      {},
    );
    const failed = await until(
      'VDC failed',
      () => stateOf(id),
      (p) => p?.state === 'failed',
    );
    expect(failed?.reason).toContain(`pool ${broken}`);
    expect(failed?.reason).toMatch(/credentials/i);
    expect(await readNamespace(kube, `vdc-${id}`)).toBeDefined();
    if (record) await saveFixture(id, 'vdc-lifecycle-failed.json');

    await registerLocalAs(broken);
    expect((await tenancy.provisionVdc(caller, id, {})).provisioning?.state).toBe('provisioning');
    expect(
      await until(
        'VDC ready',
        () => stateOf(id),
        (p) => p?.state === 'ready',
      ),
    ).not.toHaveProperty('reason');
    expect((await readQuota(kube, `vdc-${id}-${broken}`)).hard).toEqual({ ...q2, storageGi: 100 });

    await tenancy.deleteVdc(caller, id, {});
    await until(
      'VDC removed',
      () => tw.store.vdcs.get(id),
      (v) => v === null,
      180_000,
    );
    expect(await readNamespace(kube, `vdc-${id}`)).toBeUndefined();
    expect(await readNamespace(kube, `vdc-${id}-${broken}`)).toBeUndefined();
  });

  it("a namespace of the same name that is not the VDC's is refused with a clear reason and left alone", async () => {
    const id = uniqueName('lf');
    await kube.core.createNamespace({ body: { metadata: { name: `vdc-${id}` } } });
    await tenancy.createVdc(caller, domainId, { id, name: 'Taken', pools: [{ pool: 'local', quota: q2 }] }, {});
    const failed = await until(
      'VDC failed',
      () => stateOf(id),
      (p) => p?.state === 'failed',
    );
    expect(failed?.reason).toContain(`namespace vdc-${id} already exists on pool local and does not belong to VDC ${id}`);
    await tenancy.deleteVdc(caller, id, {});
    await until(
      'VDC removed',
      () => tw.store.vdcs.get(id),
      (v) => v === null,
      180_000,
    );
    // The foreign namespace is still there: deletion only removes what is the VDC's.
    expect(await readNamespace(kube, `vdc-${id}`)).toBeDefined();
    await kube.core.deleteNamespace({ name: `vdc-${id}` });
  });
});
