import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerConfig } from './config.ts';
import { createTicketWorker } from './create-worker.ts';
import { startReportJobs } from './report-jobs.ts';

const config = loadWorkerConfig();
Runtime.install({ logger: new DefaultLogger(config.logLevel) });
const { worker, shutdown } = await createTicketWorker(config);
// BullMQ report jobs run here too (see api/services/report-jobs.ts for why), when Redis is configured.
const reports = config.redisUrl ? await startReportJobs(config.mongoUrl, config.redisUrl) : undefined;
console.log(JSON.stringify({ level: 'info', msg: 'worker started', taskQueue: worker.options.taskQueue, reportJobs: Boolean(reports) }));
// Worker.run() installs SIGINT/SIGTERM handlers and drains in-flight tasks before resolving.
await worker.run();
await reports?.close();
await shutdown();
