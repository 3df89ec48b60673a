import { redisConnection } from '../infra/redis.ts';
import { QueueEvents } from 'bullmq';
import { mongo } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.ts';
import { REPORT_FILES_BUCKET, type ReportFileStore } from '../store/report-files.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { REPORT_FILE_SWEEP_SCHEDULER, startReportFileSweep, type ReportFileSweepResult } from './report-file-sweep.ts';

/** The report-file sweep against the stack's real Redis (BullMQ) and Mongo (GridFS bucket `report_files`). */
let store: Store;
let files: ReportFileStore;
const connection = redisConnection(stackEnv('EDGEPORT_REDIS_URL'));
const H = 3_600_000;

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  files = store.reportFiles;
});
afterAll(async () => {
  await store?.close();
});

async function storedFile(name: string, ageMs: number): Promise<string> {
  const { fileId } = await files.write(name, { jobId: name }, async (write) => write(`report ${name}\n`));
  await store.testing.db
    .collection(`${REPORT_FILES_BUCKET}.files`)
    .updateOne({ _id: new mongo.ObjectId(fileId) }, { $set: { uploadDate: new Date(Date.now() - ageMs) } });
  return fileId;
}
const exists = async (fileId: string): Promise<boolean> => (await files.open(fileId)) !== null;
const chunks = async (fileId: string): Promise<number> =>
  store.testing.db.collection(`${REPORT_FILES_BUCKET}.chunks`).countDocuments({ files_id: new mongo.ObjectId(fileId) });

describe('report file sweep', () => {
  it('a sweep job deletes the files older than the retention (with their chunks) and keeps the younger ones', async () => {
    const old = await storedFile(uniqueName('old'), 8 * 24 * H);
    const young = await storedFile(uniqueName('young'), 2 * 24 * H);
    expect(await chunks(old)).toBe(1);
    const queueName = uniqueName('report-file-sweep');
    const sweep = await startReportFileSweep({ connection, files, retentionSeconds: 7 * 24 * 3600, everySeconds: 0, queueName });
    const events = new QueueEvents(queueName, { connection });
    try {
      await events.waitUntilReady();
      const job = await sweep.queue.add('sweep', {});
      const r = (await job.waitUntilFinished(events, 30_000)) as ReportFileSweepResult;
      expect(r.deleted).toBeGreaterThanOrEqual(1);
      expect(Date.parse(r.cutoff)).toBe(job.timestamp - 7 * 24 * H);
      expect(await exists(old)).toBe(false);
      expect(await chunks(old)).toBe(0);
      expect(await exists(young)).toBe(true);

      // A second sweep (a retry, another worker) finds nothing more of these and fails on nothing.
      const again = await sweep.queue.add('sweep', {});
      await again.waitUntilFinished(events, 30_000);
      expect(await exists(young)).toBe(true);
    } finally {
      await events.close();
      await sweep.close();
    }
  });

  it('registers one job scheduler per queue at the configured interval, and removes it with interval 0', async () => {
    const queueName = uniqueName('report-file-sweep');
    const first = await startReportFileSweep({ connection, files, retentionSeconds: 7 * 24 * 3600, everySeconds: 3600, queueName });
    await first.close();
    const second = await startReportFileSweep({ connection, files, retentionSeconds: 7 * 24 * 3600, everySeconds: 1800, queueName });
    try {
      const schedulers = await second.queue.getJobSchedulers();
      expect(schedulers.map((s) => ({ key: s.key, every: Number(s.every) }))).toEqual([{ key: REPORT_FILE_SWEEP_SCHEDULER, every: 1_800_000 }]);
    } finally {
      await second.close();
    }
    const off = await startReportFileSweep({ connection, files, retentionSeconds: 7 * 24 * 3600, everySeconds: 0, queueName });
    try {
      expect(await off.queue.getJobSchedulers()).toEqual([]);
    } finally {
      await off.close();
    }
  });
});
