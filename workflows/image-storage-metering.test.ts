import { redisConnection } from '../infra/redis.ts';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { QueueEvents, Queue, Worker as BullWorker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linesFromHistory } from '../activities/ledger/history.ts';
import { IMAGE_STORAGE_EXTRACTORS } from '../activities/ledger/images.ts';
import { ledgerLinesFromHistory } from '../activities/ledger/index.ts';
import { createRegistryRuntime } from '../infra/registry/runtime.ts';
import { ledgerVerifyProcessor } from '../services/ledger-verify-jobs.ts';
import { verifyLedger } from '../services/ledger-verify.ts';
import { imageStorageMeteringId, type ImageStorageMeteringResult } from '../common/image-storage-metering.ts';
import { buildImage, pushImage } from '../stack/testing/oci-image.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { startImageStorageMetering } from '../worker/image-jobs.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Image-storage metering as a workflow on the stack's real Temporal dev server, registry and MongoDB:
 * the `image.storage` lines derive from the run's history, so the platform-wide verify (what the scheduled
 * verify job runs) finds no difference with them present.
 */
const registry = {
  url: stackEnv('EDGEPORT_REGISTRY_URL'),
  tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
  tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
};
const bull = redisConnection(stackEnv('EDGEPORT_REDIS_URL'));
const H = 3_600_000;
const a = uniqueName('imga');
const b = uniqueName('imgb');
const ghost = uniqueName('imgg'); // repositories of a VDC without a record: not billed
let tw: TicketWorker;
let run: Promise<void>;
let temporal: Client;
let taskQueue: string;

beforeAll(async () => {
  taskQueue = uniqueName('image-metering');
  tw = await createTicketWorker({
    temporalAddress: stackEnv('EDGEPORT_TEMPORAL_ADDRESS'),
    temporalNamespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
    mongoUrl: stackEnv('EDGEPORT_MONGO_URL'),
    credentials: { key: stackEnv('EDGEPORT_CREDENTIALS_KEY'), previousKeys: [] },
    taskQueue,
    registry,
    worker: testWorkerOptions(),
  });
  run = tw.worker.run();
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  for (const id of [a, b])
    await tw.store.vdcs.upsert({ _id: id, name: id, domainId: 'img-domain', namespace: `vdc-${id}`, namespaceStatus: 'active', pool: 'local', quota: {} });
  const rt = createRegistryRuntime(registry);
  // 3 MiB of incompressible bytes in A's private repository, the same image again in its staging repository
  // (blobs counted once per VDC); a small image for B and one for the VDC without a record.
  const big = buildImage({ archs: ['amd64'], layers: [{ 'blob.bin': randomBytes(3 * 2 ** 20) }] });
  await pushImage(rt.driver, `vdc-${a}/big`, 'v1', big);
  await pushImage(rt.driver, `staging-${a}/big`, 'v1', big);
  await pushImage(rt.driver, `vdc-${b}/small`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: [{ 'etc/motd': 'hello' }] }));
  await pushImage(rt.driver, `vdc-${ghost}/left`, 'v1', buildImage({ archs: ['amd64'], layers: [{ 'etc/motd': 'bye' }] }));
}, 120_000);

afterAll(async () => {
  tw?.worker.shutdown();
  await run;
  await tw?.shutdown();
  await temporal?.connection.close();
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('image-storage metering workflow', () => {
  it('one run per interval; one image.storage line per VDC with bytes, derived from its measuring event; platform-wide verify finds no difference', async () => {
    const now = new Date('2026-11-25T06:30:00Z');
    const first = await startImageStorageMetering(temporal, taskQueue, now, H);
    expect(first).toEqual({ workflowId: imageStorageMeteringId(new Date('2026-11-25T06:00:00Z')), started: true });
    const handle = temporal.workflow.getHandle(first.workflowId);
    const result = (await handle.result()) as ImageStorageMeteringResult;
    // A second start in the same interval (a retried job, a second worker), after the run finished: nothing.
    expect(await startImageStorageMetering(temporal, taskQueue, new Date('2026-11-25T06:59:00Z'), H)).toEqual({ workflowId: first.workflowId, started: false });

    const lines = await tw.store.ledger.byWorkflow(first.workflowId);
    // Other test files' VDCs on the same stack may hold images too: A and B are billed, once each; the
    // repositories of the VDC without a record are not.
    const billed = lines.map((l) => l.vdcId);
    expect(billed).toEqual(expect.arrayContaining([a, b]));
    expect(billed).not.toContain(ghost);
    expect(new Set(billed).size).toBe(billed.length);
    expect(result.lineIds.sort()).toEqual(lines.map((l) => l._id).sort());
    expect(result.measured).toBeGreaterThanOrEqual(3); // a, b and the VDC without a record
    const la = lines.find((l) => l.vdcId === a)!;
    expect(la).toMatchObject({
      fact: 'image.storage',
      workflowId: first.workflowId,
      domainId: 'img-domain',
      pool: 'local',
      units: { imageStorageGi: 'GiB' },
      start: new Date('2026-11-25T06:00:00Z'),
      end: new Date('2026-11-25T07:00:00Z'),
    });
    expect(la.quantities.imageStorageGi).toBeGreaterThan(0.0029);
    expect(la.quantities.imageStorageGi).toBeLessThan(0.0031);
    expect(lines.find((l) => l.vdcId === b)!.quantities.imageStorageGi).toBeLessThan(0.0001);

    // Provenance: each line is the ActivityTaskCompleted event of its VDC's measuring activity.
    const history = await handle.fetchHistory();
    const ev = history.events!.find((e) => Number(e.eventId) === la.eventId)!;
    const scheduledId = Number(ev.activityTaskCompletedEventAttributes!.scheduledEventId);
    expect(history.events!.find((e) => Number(e.eventId) === scheduledId)!.activityTaskScheduledEventAttributes!.activityType!.name).toBe(
      'measureVdcImageStorage',
    );
    expect(la._id).toBe(`${first.workflowId}/${la.runId}/${la.eventId}`);
    const strip = (l: (typeof lines)[number]) => {
      const { createdAt: _c, ...rest } = l;
      return rest;
    };
    const byId = (x: { _id: string }, y: { _id: string }) => x._id.localeCompare(y._id);
    expect(linesFromHistory(first.workflowId, history, IMAGE_STORAGE_EXTRACTORS).sort(byId)).toEqual(lines.map(strip).sort(byId));
    expect(ledgerLinesFromHistory(first.workflowId, history).sort(byId)).toEqual(lines.map(strip).sort(byId));

    // Platform-wide verify, as `POST /api/ledger/verify` without VDCs and the scheduled job run it. Workflow
    // tests on the time-skipping test server write lines into the same MongoDB while their histories live on
    // that server: the stored side is the lines of workflows this dev server knows (listed after verify's own
    // listing, so a workflow started meanwhile is at worst a transient difference `until` waits out).
    const storedLines = async (ids: string[] | 'all') => {
      const known = new Set<string>();
      for await (const wf of temporal.workflow.list()) known.add(wf.workflowId);
      return (await tw.store.ledger.list(ids)).filter((l) => known.has(l.workflowId));
    };
    const deps = { temporal, storedLines };
    const all = await until(
      () => verifyLedger(deps),
      (r) => r.ok,
    );
    expect(all.differences).toEqual([]);
    expect(all.ok).toBe(true);
    expect(all.rebuiltLines).toBeGreaterThanOrEqual(2);
    console.log(
      'platform-wide verify with image-storage lines',
      JSON.stringify({
        ok: all.ok,
        workflowsScanned: all.workflowsScanned,
        rebuiltLines: all.rebuiltLines,
        storedLines: all.storedLines,
        differences: all.differences.length,
      }),
    );

    // The scheduled verify's own processor, run by a real BullMQ worker.
    const runs = tw.store.ledgerVerifications;
    const queueName = uniqueName('verify');
    const queue = new Queue(queueName, { connection: bull });
    const events = new QueueEvents(queueName, { connection: bull });
    const worker = new BullWorker(queueName, ledgerVerifyProcessor({ ...deps, runs }), { connection: bull });
    try {
      await events.waitUntilReady();
      const job = await queue.add('verify', {});
      expect(await job.waitUntilFinished(events, 60_000)).toEqual({ ok: true, differenceCount: 0 });
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }

    // A deleted image-storage line is reported, exactly that one.
    await tw.store.testing.collection('ledgerlines').deleteOne({ _id: la._id as never });
    const broken = await verifyLedger(deps);
    expect(broken.differences.map((d) => [d.kind, d.id])).toEqual([['missing', la._id]]);
    await tw.store.ledger.upsert(strip(la));
    expect((await verifyLedger(deps)).ok).toBe(true);
  }, 180_000);
});
