import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harborRobotRotationId, type HarborRobotRotationResult } from '../common/harbor-robot-rotation.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { credentialCipher } from '../store/credentials.ts';
import { HARBOR_ROBOT_SECRETS_COLLECTION, harborRobotSecretAad } from '../store/harbor-robot-secrets.ts';
import { harborDriver } from '../infra/registry/harbor-driver.ts';
import { startHarborRobotJobs, startHarborRobotRotation } from '../worker/harbor-robot-jobs.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { redisConnection } from '../infra/redis.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Scheduled rotation of Harbor's VDC robot accounts, against the Harbor contract server (every request and
 * response validated against Harbor's published v2.0 OpenAPI subset) with a real ticket worker whose registry is
 * Harbor (`driver: 'harbor'`) on the stack's Temporal and MongoDB: robots expiring within the window are extended
 * and get a new secret (sealed in MongoDB, never in the history); one run per interval (deterministic id); the
 * worker's BullMQ job scheduler starts the workflow.
 */
let harbor: FakeHarbor;
let tw: TicketWorker;
let run: Promise<void>;
let temporal: Client;
const taskQueue = uniqueName('robots');
const sfx = uniqueName('r');
const key = stackEnv('EDGEPORT_CREDENTIALS_KEY');
const ids: Record<string, number> = {};
const secrets: Record<string, string> = {};

beforeAll(async () => {
  harbor = await startFakeHarbor();
  const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
  for (const p of [`vdc-a${sfx}`, `vdc-b${sfx}`, `other${sfx}`]) await admin.ensureNamespace({ name: p, public: false });
  const make = async (label: string, project: string, ageDays: number) => {
    const r = await admin.createRobot(project, { name: `edgeport-${label}`, durationDays: 30, actions: ['pull'] });
    harbor.ageRobot(r.id, ageDays);
    ids[label] = r.id;
    secrets[label] = r.secret;
  };
  await make('near', `vdc-a${sfx}`, 27); // expires in ~3 days: inside a 7-day window
  await make('far', `vdc-a${sfx}`, 1); // ~29 days left
  await make('nearb', `vdc-b${sfx}`, 29); // ~1 day left
  await make('outside', `other${sfx}`, 29); // not a VDC project: left alone
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
    registry: { driver: 'harbor', url: harbor.url, username: harbor.username, password: harbor.password },
    worker: testWorkerOptions(),
  });
  run = tw.worker.run();
}, 300_000);

afterAll(async () => {
  tw?.worker.shutdown();
  await run;
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

describe('Harbor robot rotation', () => {
  it('rotates the VDC robots expiring within the window: new secret sealed in MongoDB, expiry moved, once per interval', async () => {
    const now = new Date();
    const intervalMs = 3_600_000;
    const first = await startHarborRobotRotation(temporal, taskQueue, now, intervalMs, { windowDays: 7, durationDays: 30 });
    expect(first).toEqual({ workflowId: harborRobotRotationId(new Date(Math.floor(now.getTime() / intervalMs) * intervalMs)), started: true });
    const again = await startHarborRobotRotation(temporal, taskQueue, new Date(now.getTime() + 1000), intervalMs, { windowDays: 7, durationDays: 30 });
    expect(again).toEqual({ workflowId: first.workflowId, started: false });

    const handle = temporal.workflow.getHandle(first.workflowId);
    const result = (await handle.result()) as HarborRobotRotationResult;
    expect(result.failed).toEqual([]);
    expect(result.checked).toBe(3);
    expect(result.rotated.map((r) => r.id).sort((a, b) => a - b)).toEqual([ids.near!, ids.nearb!].sort((a, b) => a - b));
    const soon = Math.floor(Date.now() / 1000) + 29 * 86_400;
    for (const label of ['near', 'nearb']) {
      const now = harbor.robot(ids[label]!)!;
      expect(now.secret).not.toBe(secrets[label]);
      expect(now.expiresAt).toBeGreaterThan(soon);
      const id = `${new URL(harbor.url).host}/${ids[label]}`;
      const stored = await tw.store.harborRobotSecrets.get(id);
      expect(stored).toMatchObject({ project: label === 'near' ? `vdc-a${sfx}` : `vdc-b${sfx}`, expiresAt: now.expiresAt });
      expect(JSON.stringify(stored)).not.toContain(now.secret);
      expect(credentialCipher(key, []).open(stored!.secret, harborRobotSecretAad(id))).toBe(now.secret);
    }
    expect(harbor.robot(ids.far!)!.secret).toBe(secrets.far);
    expect(harbor.robot(ids.outside!)!.secret).toBe(secrets.outside);

    const history = historyText(await handle.fetchHistory()).join('\n');
    for (const label of ['near', 'nearb']) expect(history).not.toContain(harbor.robot(ids[label]!)!.secret);
    expect(harbor.problems()).toEqual([]);
  });

  it('a rerun rotates nothing more (rotated robots are far from expiry)', async () => {
    const start = await startHarborRobotRotation(temporal, taskQueue, new Date(Date.now() + 3_600_000), 3_600_000, { windowDays: 7, durationDays: 30 });
    expect(start.started).toBe(true);
    const result = (await temporal.workflow.getHandle(start.workflowId).result()) as HarborRobotRotationResult;
    expect(result).toEqual({ checked: 3, rotated: [], failed: [] });
  });

  it("the worker's BullMQ job scheduler starts the rotation workflow", async () => {
    const done: unknown[] = [];
    const jobs = await startHarborRobotJobs({
      connection: redisConnection(stackEnv('EDGEPORT_REDIS_URL')),
      temporal: { address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS'), namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'), taskQueue },
      everySeconds: 2,
      // A window covering the far robot too, so this run rotates it.
      input: { windowDays: 40, durationDays: 60 },
      queueName: uniqueName('robot-jobs'),
      log: (msg, extra) => {
        if (msg === 'harbor robot job done') done.push(extra.result);
      },
    });
    try {
      for (let i = 0; i < 100 && done.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect(done[0]).toMatchObject({ workflowId: expect.stringMatching(/^harbor-robot-rotation-/), started: true });
      const result = (await temporal.workflow.getHandle((done[0] as { workflowId: string }).workflowId).result()) as HarborRobotRotationResult;
      expect(result.rotated.map((r) => r.id)).toContain(ids.far!);
      expect(harbor.robot(ids.far!)!.secret).not.toBe(secrets.far);
    } finally {
      await jobs.close();
    }
  });
});
