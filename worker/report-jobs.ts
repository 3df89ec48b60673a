import { reportService } from '../api/services/billing.ts';
import { startReportWorker } from '../api/services/report-jobs.ts';
import { openStore } from '../store/index.ts';
import { priceBookStore } from '../store/pricebook.ts';
import { reportFileStore } from '../store/report-files.ts';

/**
 * Starts the BullMQ report-job worker of this process on its own store connection. `close()` lets the
 * running job finish, then closes the worker and the connection.
 */
export async function startReportJobs(mongoUrl: string, redisUrl: string): Promise<{ close(): Promise<void> }> {
  const store = await openStore(mongoUrl);
  const priceBook = priceBookStore(store.conn);
  await priceBook.init();
  const url = new URL(redisUrl);
  const worker = startReportWorker({
    connection: { host: url.hostname, port: Number(url.port || 6379), ...(url.password ? { password: decodeURIComponent(url.password) } : {}), ...(url.username ? { username: decodeURIComponent(url.username) } : {}), maxRetriesPerRequest: null },
    reports: reportService({ store, priceBook }),
    files: reportFileStore(store.conn),
  });
  worker.on('failed', (job, err) => console.log(JSON.stringify({ level: 'warn', msg: 'report job failed', jobId: job?.id, attempt: job?.attemptsMade, error: err.message })));
  return {
    async close() {
      await worker.close();
      await store.close();
    },
  };
}
