import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessService } from '../api/services/access.ts';
import { harborVdcProvisioning, provisionVdcs } from '../api/services/harbor-provisioning.ts';
import { tenancyService } from '../api/services/tenancy.ts';
import { harborDriver } from '../infra/registry/harbor-driver.ts';
import { harborVdcProvisionId, type HarborVdcProvisionResult } from '../common/harbor-vdc-provision.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { credentialCipher } from '../store/credentials.ts';
import { HARBOR_ROBOT_SECRETS_COLLECTION, harborRobotSecretAad } from '../store/harbor-robot-secrets.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Harbor provisioning of a new VDC end to end: the tenancy service creates the VDC and starts
 * `harborVdcProvisionWorkflow` (deterministic id per VDC) on the stack's Temporal; a real ticket worker whose
 * registry is Harbor — the contract server, validating every request and response against Harbor's published v2.0
 * OpenAPI subset — creates the projects and the robot; the secret is sealed in MongoDB and never in the history.
 * With EDGEPORT_RECORD_FIXTURES=1 the first run's history is written to `__fixtures__/harbor-vdc-provision.json`.
 */
let harbor: FakeHarbor;
let tw: TicketWorker;
let run: Promise<void>;
let temporal: Client;
const taskQueue = uniqueName('harbor-prov');
const key = stackEnv('EDGEPORT_CREDENTIALS_KEY');
const domainId = uniqueName('hpd');
const vdcIds: string[] = [];

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
}, 300_000);

afterAll(async () => {
  tw?.worker.shutdown();
  await run;
  for (const id of vdcIds) await tw?.store.vdcs.remove(id);
  await tw?.store.domains.remove(domainId);
  await tw?.store.testing
    .collection(HARBOR_ROBOT_SECRETS_COLLECTION)
    .deleteMany({ _id: { $regex: `^${new URL(harbor.url).host.replace(/\./g, '\\.')}/` } as never });
  await tw?.shutdown();
  await temporal?.connection.close();
  await harbor?.close();
});

function historyText(node: unknown, out: string[] = []): string[] {
  if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const n of node) historyText(n, out);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) historyText(v, out);
  return out;
}

describe('Harbor provisioning workflow', () => {
  it('creating a VDC starts the provisioning: projects and one robot in Harbor, secret sealed in MongoDB only', async () => {
    const audit = tw.store.audit;
    const provisioning = harborVdcProvisioning({ temporal, taskQueue });
    const tenancy = tenancyService({ store: tw.store, audit, access: accessService({ store: tw.store, audit }), registryProvisioning: provisioning });
    const vdcId = uniqueName('hpw');
    vdcIds.push(vdcId);
    const caller = { sub: 'ops-test', name: 'Ops Test', bindings: [], grants: [] };
    await tenancy.createVdc(caller, domainId, { id: vdcId, name: 'Harbor VDC', pools: [{ pool: 'local', quota: { cpu: 1, memoryGi: 1, pods: 5 } }] }, {});

    const handle = temporal.workflow.getHandle(harborVdcProvisionId(vdcId));
    const result = (await handle.result()) as HarborVdcProvisionResult;
    expect(result.driver).toBe('harbor');
    expect(result.projects.map((p) => p.outcome)).toEqual(['created', 'created', 'created']);
    expect(result.robot).toMatchObject({ project: `vdc-${vdcId}`, outcome: 'created' });
    const robotId = result.robot!.id;
    const secret = harbor.robot(robotId)!.secret;
    const id = `${new URL(harbor.url).host}/${robotId}`;
    const stored = await tw.store.harborRobotSecrets.get(id);
    expect(credentialCipher(key, []).open(stored!.secret, harborRobotSecretAad(id))).toBe(secret);
    const history = await handle.fetchHistory();
    expect(historyText(history).join('\n')).not.toContain(secret);
    // EDGEPORT_RECORD_FIXTURES=1 refreshes the replay fixture from this run (it holds no secret: checked above).
    if (process.env.EDGEPORT_RECORD_FIXTURES === '1')
      writeFileSync(join(import.meta.dirname, '__fixtures__', 'harbor-vdc-provision.json'), historyToJSON(history));
    const entries = JSON.stringify(
      await tw.store.testing
        .collection(AUDIT_COLLECTION)
        .find({ target: `vdc:${vdcId}` })
        .toArray(),
    );
    expect(entries).toContain('vdc.registry-provision');
    expect(entries).not.toContain(secret);

    // Starting it again (same id) runs once more and changes nothing: still one robot, same secret.
    const again = await provisioning.start(vdcId);
    expect(again.workflowId).toBe(harborVdcProvisionId(vdcId));
    const second = (await temporal.workflow.getHandle(again.workflowId).result()) as HarborVdcProvisionResult;
    expect(second.projects.map((p) => p.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(second.robot).toMatchObject({ id: robotId, outcome: 'unchanged' });
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    expect((await admin.listRobots(`vdc-${vdcId}`)).map((r) => r.id)).toEqual([robotId]);
    expect(harbor.robot(robotId)!.secret).toBe(secret);
    expect(harbor.problems()).toEqual([]);
  });

  it('a VDC deleted before the run: the workflow fails with VdcNotFound and creates nothing', async () => {
    const vdcId = uniqueName('hpx');
    const mark = harbor.requests.length;
    const { workflowId } = await harborVdcProvisioning({ temporal, taskQueue }).start(vdcId);
    await expect(temporal.workflow.getHandle(workflowId).result()).rejects.toThrow();
    const history = historyText(await temporal.workflow.getHandle(workflowId).fetchHistory()).join('\n');
    expect(history).toContain('VdcNotFound');
    expect(harbor.requests.length).toBe(mark);
  });

  it('backfill (`tsx api/cli.ts harbor provision`): VDCs that existed before get their projects and robot; unknown ids are reported', async () => {
    const old = [uniqueName('hpo'), uniqueName('hpo')];
    for (const id of old) {
      await tw.store.vdcs.create({ _id: id, name: id, domainId, namespace: `vdc-${id}`, namespaceStatus: 'active', pool: 'local', quota: {} });
      vdcIds.push(id);
    }
    const missing = uniqueName('hpm');
    const results = await provisionVdcs({ temporal, taskQueue, vdcs: tw.store.vdcs }, [...old, missing]);
    expect(results).toEqual(
      expect.arrayContaining([
        { vdcId: missing, ok: false, error: 'no such VDC' },
        ...old.map((id) => ({ vdcId: id, ok: true, workflowId: harborVdcProvisionId(id) })),
      ]),
    );
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    for (const id of old) {
      expect(await admin.getNamespace(`vdc-${id}`)).toMatchObject({ public: false, preventVulnerable: { enabled: true, severity: 'high' } });
      expect(await admin.listRobots(`vdc-${id}`)).toHaveLength(1);
    }
    expect(harbor.problems()).toEqual([]);
  });
});
