import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { spaceNamespace } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { checkInvariants } from './invariants.ts';
import { ApiClient } from './lib/client.ts';
import { crash } from './lib/stack.ts';
import { driveToFinal, submit, type PlannedTicket } from './lib/driver.ts';

/**
 * The reliability bench's invariant checker on a tiny real scenario: four tickets over HTTP with the api
 * and two worker replicas as real processes, one SIGKILLed while they run; then the checker must find
 * nothing, and must find the one side effect removed behind Edgeport's back.
 */
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('inv');
/** Spaces live in a VDC of their own: a quota change racing a space create in one VDC is a known gap (README). */
const spaceVdcId = uniqueName('inv-sp');
const spaceName = 'bench-ok';
const api = new ApiClient(stackEnv('EDGEPORT_PUBLIC_URL'));

let store: Store;
let temporal: Client;
let apiProc: AppProcess;
/** Two worker replicas: one is SIGKILLed mid-run, the other carries on (no restart needed on a slow machine). */
let worker: AppProcess;
let replica: AppProcess;
const ids: string[] = [];

const startWorker = async (): Promise<AppProcess> => {
  const p = startApp(repoDir, 'worker', env);
  await waitForWorker(p, 420_000);
  return p;
};

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  for (const id of [vdcId, spaceVdcId])
    await seedVdc(store, admin, { id, name: 'Invariant VDC', domainId: 'inv-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  for (const [username, role] of [
    ['tenant', 'vdc-user'],
    ['vdcadmin', 'vdc-admin'],
  ] as const) {
    await grant(
      store,
      demoUserByUsername(username)!,
      [vdcId, spaceVdcId].map((id) => ({ role, scope: { type: 'vdc' as const, vdcId: id } })),
    );
  }
  [worker, replica, apiProc] = await Promise.all([
    startWorker(),
    startWorker(),
    (async () => {
      const p = startApp(repoDir, 'api', env);
      await waitForApi(p, api.base, 420_000);
      return p;
    })(),
  ]);
  await api.login('tenant', 'vdcadmin', 'opsadmin');
}, 900_000);

afterAll(async () => {
  await Promise.all([apiProc?.stop(), worker?.stop(), replica?.stop()]);
  await temporal?.connection.close();
  await store?.close();
});

describe('invariant checker', () => {
  it('finds 0 lost and 0 duplicated side effects after a worker crash, and reports one removed behind its back', { timeout: 900_000 }, async () => {
    const plan: PlannedTicket[] = [
      { requester: 'tenant', body: { type: 'quota-change', vdcId, quota: { pods: 25 } } },
      { requester: 'tenant', body: { type: 'quota-change', vdcId, quota: { cpu: 5 } }, reject: true },
      { requester: 'tenant', body: { type: 'space-create', vdcId: spaceVdcId, name: spaceName } },
      { requester: 'tenant', body: { type: 'space-create', vdcId: spaceVdcId, name: 'bench-no' }, reject: true },
    ];
    for (const t of plan) {
      const r = await submit(api, t, uniqueName('inv-key'));
      expect(r.status).toBe(201);
      ids.push(r.id!);
    }
    const driving = Promise.all(ids.map((id, i) => driveToFinal(api, id, plan[i]!, { admin: admin.core, timeoutMs: 780_000, pollMs: 500 })));
    // One crash while the tickets are being decided and executed; the replica takes over after the timeouts.
    await new Promise((r) => setTimeout(r, 1500));
    await crash(worker);
    expect(worker.child.exitCode ?? worker.child.signalCode).not.toBeNull();
    const finals = await driving;
    expect(finals.map((t) => t?.status)).toEqual(['completed', 'rejected', 'completed', 'rejected']);
    // A ticket shows its final status one step before its workflow closes; after the crash that last step waits
    // for the replica to take the workflow task over. The invariants are about settled work: wait for it.
    for (const id of ids) {
      for (let i = 0; (await temporal.workflow.getHandle(id).describe()).status.name === 'RUNNING'; i++) {
        if (i > 600) throw new Error(`workflow ${id} still runs 60 s after its ticket became final`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const deps = { store, temporal, kubeconfig: stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG') };
    const report = await checkInvariants(deps, ids);
    expect(report).toMatchObject({ tickets: 4, byStatus: { completed: 2, rejected: 2 }, notFinal: [], stuck: [], lost: [], duplicated: [], mismatched: [] });
    expect(report.ledger).toMatchObject({ storedLines: 1, rebuiltLines: 1, differences: 0 });

    await admin.core.deleteNamespace({ name: spaceNamespace(spaceVdcId, spaceName) });
    const broken = await checkInvariants(deps, ids);
    expect(broken.lost).toEqual([
      expect.objectContaining({ ticketId: ids[2], what: expect.stringContaining(`namespace ${spaceNamespace(spaceVdcId, spaceName)} is`) }),
    ]);
    expect(broken.duplicated).toEqual([]);
  });
});
