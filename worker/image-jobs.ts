import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { rescanRegistry } from '../infra/registry/image-maintenance.ts';
import { IMAGE_STORAGE_METERING_WORKFLOW, imageStorageMeteringId, type ImageStorageMeteringInput } from '../common/image-storage-metering.ts';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';
import { createRegistryRuntime, type RegistryRuntimeConfig } from '../infra/registry/runtime.ts';
import { openStore } from '../store/index.ts';

/** BullMQ queue of the scheduled image jobs (repeatable, like the report jobs this worker also runs). */
export const IMAGE_JOBS_QUEUE = 'edgeport-image-jobs';

export type ImageJobName = 'image-rescan' | 'image-metering';

/**
 * Starts the image-storage metering workflow of the interval of `intervalMs` containing `now` (workflow id
 * `imageStorageMeteringId(start)`, REJECT_DUPLICATE): a second start for the same interval, running or
 * finished, starts nothing, so an interval is metered (and billed) once. `started: false` then.
 */
export async function startImageStorageMetering(
  temporal: Client,
  taskQueue: string,
  now: Date,
  intervalMs: number,
): Promise<{ workflowId: string; started: boolean }> {
  const start = new Date(Math.floor(now.getTime() / intervalMs) * intervalMs);
  const input: ImageStorageMeteringInput = { start: start.toISOString(), end: new Date(start.getTime() + intervalMs).toISOString() };
  const workflowId = imageStorageMeteringId(start);
  try {
    await temporal.workflow.start(IMAGE_STORAGE_METERING_WORKFLOW, { taskQueue, workflowId, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}

/**
 * Starts the scheduled image jobs of this worker: the whole-registry rescan every `rescanMinutes` and, every
 * `meteringMinutes` (0: off), the start of that interval's image-storage metering workflow (its ledger lines
 * derive from its history). Job schedulers are upserted by id, so any number of workers keep exactly one
 * schedule each; BullMQ hands each run to one worker.
 */
export async function startImageJobs(opts: {
  mongoUrl: string;
  connection: ConnectionOptions;
  registry: RegistryRuntimeConfig;
  temporal: { address: string; namespace: string; taskQueue?: string };
  rescanMinutes: number;
  meteringMinutes: number;
  log?: (msg: string, extra: Record<string, unknown>) => void;
}): Promise<{ close(): Promise<void> }> {
  const store = await openStore(opts.mongoUrl);
  const temporalConnection = await Connection.connect({ address: opts.temporal.address });
  const temporal = new Client({ connection: temporalConnection, namespace: opts.temporal.namespace });
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
      if (job.name === 'image-metering')
        return startImageStorageMetering(temporal, opts.temporal.taskQueue ?? TICKETS_TASK_QUEUE, new Date(job.timestamp), opts.meteringMinutes * 60_000);
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
      await temporalConnection.close();
      await store.close();
    },
  };
}
