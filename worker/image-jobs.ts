import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { meterImageStorage, rescanRegistry } from '../activities/registry/image-maintenance.ts';
import { createRegistryRuntime, type RegistryRuntimeConfig } from '../activities/registry/runtime.ts';
import { openStore } from '../store/index.ts';

/** BullMQ queue of the scheduled image jobs (repeatable, like the report jobs this worker also runs). */
export const IMAGE_JOBS_QUEUE = 'edgeport-image-jobs';

export type ImageJobName = 'image-rescan' | 'image-metering';

/**
 * Starts the scheduled image jobs of this worker: the whole-registry rescan every `rescanMinutes` and the
 * image-storage metering sample every `meteringMinutes` (0: off). Job schedulers are upserted by id, so any
 * number of workers keep exactly one schedule each; BullMQ hands each run to one worker.
 */
export async function startImageJobs(opts: { mongoUrl: string; connection: ConnectionOptions; registry: RegistryRuntimeConfig; rescanMinutes: number; meteringMinutes: number; log?: (msg: string, extra: Record<string, unknown>) => void }): Promise<{ close(): Promise<void> }> {
  const store = await openStore(opts.mongoUrl);
  const rt = createRegistryRuntime(opts.registry);
  const queue = new Queue(IMAGE_JOBS_QUEUE, { connection: opts.connection });
  const schedule = async (id: ImageJobName, minutes: number) => {
    if (minutes > 0) await queue.upsertJobScheduler(id, { every: minutes * 60_000 }, { name: id, opts: { removeOnComplete: 50, removeOnFail: 50 } });
    else await queue.removeJobScheduler(id);
  };
  await schedule('image-rescan', opts.rescanMinutes);
  await schedule('image-metering', opts.meteringMinutes);
  const worker = new Worker(
    IMAGE_JOBS_QUEUE,
    async (job) => {
      if (job.name === 'image-rescan') return rescanRegistry(rt, store);
      if (job.name === 'image-metering') return { lines: (await meterImageStorage(rt, store, new Date(job.timestamp), opts.meteringMinutes * 60_000)).length };
      return null;
    },
    { connection: opts.connection, concurrency: 1 },
  );
  worker.on('completed', (job, result: unknown) => opts.log?.('image job done', { job: job.name, result }));
  worker.on('failed', (job, err) => opts.log?.('image job failed', { job: job?.name, error: err.message }));
  return {
    async close() {
      await worker.close();
      await queue.close();
      await store.close();
    },
  };
}

/** BullMQ connection options of a Redis URL (as the report jobs build them). */
export function redisConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379), ...(url.password ? { password: decodeURIComponent(url.password) } : {}), ...(url.username ? { username: decodeURIComponent(url.username) } : {}), maxRetriesPerRequest: null };
}
