import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { HARBOR_ROBOT_ROTATION_WORKFLOW, harborRobotRotationId, type HarborRobotRotationInput } from '../common/harbor-robot-rotation.ts';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';

/** BullMQ queue of the scheduled Harbor robot rotation. */
export const HARBOR_ROBOT_JOBS_QUEUE = 'edgeport-harbor-robot-jobs';
const JOB = 'harbor-robot-rotation';

/**
 * Starts the rotation workflow of the interval of `intervalMs` containing `now` (workflow id
 * `harborRobotRotationId(start)`, REJECT_DUPLICATE): a second start for the same interval, running or finished,
 * starts nothing (`started: false`).
 */
export async function startHarborRobotRotation(
  temporal: Client,
  taskQueue: string,
  now: Date,
  intervalMs: number,
  input: HarborRobotRotationInput,
): Promise<{ workflowId: string; started: boolean }> {
  const start = new Date(Math.floor(now.getTime() / intervalMs) * intervalMs);
  const workflowId = harborRobotRotationId(start);
  try {
    await temporal.workflow.start(HARBOR_ROBOT_ROTATION_WORKFLOW, { taskQueue, workflowId, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}

/**
 * The worker's job scheduler of the rotation (with Redis and `EDGEPORT_REGISTRY_DRIVER=harbor`): every
 * `everySeconds` (0 removes the schedule) one worker starts that interval's rotation workflow. Upserted by id,
 * so any number of workers keep one schedule.
 */
export async function startHarborRobotJobs(opts: {
  connection: ConnectionOptions;
  temporal: { address: string; namespace: string; taskQueue?: string };
  everySeconds: number;
  input: HarborRobotRotationInput;
  /** Queue name override (tests). */
  queueName?: string;
  log?: (msg: string, extra: Record<string, unknown>) => void;
}): Promise<{ close(): Promise<void> }> {
  const queueName = opts.queueName ?? HARBOR_ROBOT_JOBS_QUEUE;
  const queue = new Queue(queueName, { connection: opts.connection });
  if (opts.everySeconds <= 0) {
    await queue.removeJobScheduler(JOB);
    await queue.close();
    return { close: async () => undefined };
  }
  const temporalConnection = await Connection.connect({ address: opts.temporal.address });
  const temporal = new Client({ connection: temporalConnection, namespace: opts.temporal.namespace });
  await queue.upsertJobScheduler(JOB, { every: opts.everySeconds * 1000 }, { name: JOB, opts: { removeOnComplete: 50, removeOnFail: 50 } });
  const worker = new Worker(
    queueName,
    async (job) =>
      job.name === JOB
        ? startHarborRobotRotation(temporal, opts.temporal.taskQueue ?? TICKETS_TASK_QUEUE, new Date(job.timestamp), opts.everySeconds * 1000, opts.input)
        : null,
    { connection: opts.connection, concurrency: 1 },
  );
  worker.on('completed', (job, result: unknown) => opts.log?.('harbor robot job done', { job: job.name, result }));
  worker.on('failed', (job, err) => opts.log?.('harbor robot job failed', { job: job?.name, error: err.message }));
  return {
    async close() {
      await worker.close();
      await queue.close();
      await temporalConnection.close();
    },
  };
}
