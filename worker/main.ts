import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerConfig } from './config.ts';
import { createTicketWorker } from './create-worker.ts';
import { startHarborRobotJobs } from './harbor-robot-jobs.ts';
import { startWorkerHealth } from './health.ts';
import { redisConnection } from '../infra/redis.ts';
import { startImageJobs } from './image-jobs.ts';
import { startLedgerVerifyJobs } from './ledger-verify-jobs.ts';
import { startReportJobs } from './report-jobs.ts';

const config = loadWorkerConfig();
Runtime.install({ logger: new DefaultLogger(config.logLevel) });
const { worker, store, shutdown } = await createTicketWorker({
  ...config,
  ...(config.workflowBundlePath ? { worker: { workflowBundle: { codePath: config.workflowBundlePath } } } : {}),
});
// BullMQ report jobs run here too (see services/report-jobs.ts for why), when Redis is configured.
const reports = config.redisUrl ? await startReportJobs(config.mongoUrl, config.redisUrl, config.reportFiles) : undefined;
// Scheduled image jobs (whole-registry rescan, image-storage metering) as BullMQ job schedulers, with Redis and a registry.
const imageJobs =
  config.redisUrl && config.registry
    ? await startImageJobs({
        mongoUrl: config.mongoUrl,
        connection: redisConnection(config.redisUrl),
        registry: config.registry,
        temporal: { address: config.temporalAddress, namespace: config.temporalNamespace, ...(config.taskQueue ? { taskQueue: config.taskQueue } : {}) },
        rescanMinutes: config.images.rescanMinutes,
        meteringMinutes: config.images.meteringMinutes,
        log: (msg, extra) => console.log(JSON.stringify({ level: 'info', msg, ...extra })),
      })
    : undefined;
// Scheduled ledger verify (rebuild from history, diff, store the run), with Redis.
const ledgerVerify = config.redisUrl
  ? await startLedgerVerifyJobs({
      mongoUrl: config.mongoUrl,
      temporalAddress: config.temporalAddress,
      temporalNamespace: config.temporalNamespace,
      connection: redisConnection(config.redisUrl),
      everySeconds: config.ledgerVerifyEverySeconds,
      log: (msg, extra) => console.log(JSON.stringify({ level: 'info', msg, ...extra })),
    })
  : undefined;
// Scheduled rotation of Harbor's VDC robot accounts, with Redis and Harbor as the registry.
const robotJobs =
  config.redisUrl && config.registry?.driver === 'harbor'
    ? await startHarborRobotJobs({
        connection: redisConnection(config.redisUrl),
        temporal: { address: config.temporalAddress, namespace: config.temporalNamespace, ...(config.taskQueue ? { taskQueue: config.taskQueue } : {}) },
        everySeconds: config.harborRobotRotation.everySeconds,
        input: { windowDays: config.harborRobotRotation.windowDays, durationDays: config.harborRobotRotation.durationDays },
        log: (msg, extra) => console.log(JSON.stringify({ level: 'info', msg, ...extra })),
      })
    : undefined;
// Probes (Helm, compose): /healthz and /readyz on EDGEPORT_WORKER_HEALTH_PORT.
const health = config.health
  ? await startWorkerHealth({
      ...config.health,
      timeoutMs: config.health.readyTimeoutMs,
      worker,
      store,
      ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    })
  : undefined;
console.log(JSON.stringify({ level: 'info', msg: 'worker started', taskQueue: worker.options.taskQueue, reportJobs: Boolean(reports) }));
// Worker.run() installs SIGINT/SIGTERM handlers and drains in-flight tasks before resolving.
await worker.run();
await reports?.close();
await imageJobs?.close();
await ledgerVerify?.close();
await robotJobs?.close();
await health?.close();
await shutdown();
