import { redisConnection } from '../infra/redis.ts';
import { reportService } from '../services/reports.ts';
import { startReportFileSweep } from '../services/report-file-sweep.ts';
import { startReportWorker } from '../services/report-jobs.ts';
import { openStore } from '../store/index.ts';

/**
 * Starts the BullMQ report-job worker of this process on its own store connection, and the scheduled sweep
 * of report files older than `fileSweep.retentionSeconds` (services/report-file-sweep.ts). `close()`
 * lets the running jobs finish, then closes the workers and the connection.
 */
export async function startReportJobs(
  mongoUrl: string,
  redisUrl: string,
  fileSweep: { retentionSeconds: number; sweepEverySeconds: number },
): Promise<{ close(): Promise<void> }> {
  const store = await openStore(mongoUrl);
  const priceBook = store.priceBooks;
  const connection = redisConnection(redisUrl);
  const files = store.reportFiles;
  const worker = startReportWorker({ connection, reports: reportService({ store, priceBook }), files });
  const sweep = await startReportFileSweep({
    connection,
    files,
    retentionSeconds: fileSweep.retentionSeconds,
    everySeconds: fileSweep.sweepEverySeconds,
    onDone: (r) => console.log(JSON.stringify({ level: 'info', msg: 'report file sweep done', ...r })),
  });
  worker.on('failed', (job, err) =>
    console.log(JSON.stringify({ level: 'warn', msg: 'report job failed', jobId: job?.id, attempt: job?.attemptsMade, error: err.message })),
  );
  return {
    async close() {
      await worker.close();
      await sweep.close();
      await store.close();
    },
  };
}
