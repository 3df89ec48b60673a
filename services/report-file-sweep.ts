import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { ReportFileStore } from '../store/report-files.ts';

/**
 * Scheduled sweep of report files: report jobs are trimmed after `REPORT_JOB_KEEP_SECONDS`, which leaves
 * their GridFS files (`report_files`) with no job pointing at them. A BullMQ job scheduler on queue
 * `edgeport-report-file-sweep` deletes, every interval, each file uploaded longer ago than the retention.
 * Several worker processes share one scheduler (same id), so a sweep runs once per interval, whichever
 * process takes it; a repeated or overlapping sweep deletes nothing twice (a file already gone is skipped).
 */
export const REPORT_FILE_SWEEP_QUEUE = 'edgeport-report-file-sweep';
export const REPORT_FILE_SWEEP_SCHEDULER = 'report-file-sweep';

export interface ReportFileSweepResult {
  /** Files uploaded before this instant were deleted. */
  cutoff: string;
  deleted: number;
}

/** One sweep: deletes the files uploaded before (job time − retention). The job's own time, so a retry sweeps the same cutoff. */
export function reportFileSweepProcessor(deps: { files: Pick<ReportFileStore, 'removeOlderThan'>; retentionSeconds: number }) {
  return async (job: Job): Promise<ReportFileSweepResult> => {
    const cutoff = new Date(job.timestamp - deps.retentionSeconds * 1000);
    return { cutoff: cutoff.toISOString(), deleted: await deps.files.removeOlderThan(cutoff) };
  };
}

/**
 * Registers (or updates) the scheduler to `everySeconds` and starts the queue's worker (concurrency 1).
 * `everySeconds` 0 removes the scheduler; the worker still runs sweeps added by hand.
 */
export async function startReportFileSweep(
  deps: Parameters<typeof reportFileSweepProcessor>[0] & {
    connection: ConnectionOptions;
    everySeconds: number;
    queueName?: string;
    onDone?: (r: ReportFileSweepResult) => void;
  },
): Promise<{ queue: Queue; close(): Promise<void> }> {
  const queue = new Queue(deps.queueName ?? REPORT_FILE_SWEEP_QUEUE, { connection: deps.connection });
  if (deps.everySeconds > 0)
    await queue.upsertJobScheduler(
      REPORT_FILE_SWEEP_SCHEDULER,
      { every: deps.everySeconds * 1000 },
      { name: 'sweep', opts: { removeOnComplete: 20, removeOnFail: 20 } },
    );
  else await queue.removeJobScheduler(REPORT_FILE_SWEEP_SCHEDULER);
  const worker = new Worker<unknown, ReportFileSweepResult>(queue.name, reportFileSweepProcessor(deps), { connection: deps.connection, concurrency: 1 });
  worker.on('completed', (_job, r) => deps.onDone?.(r));
  return {
    queue,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
