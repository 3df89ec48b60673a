import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerConfig } from './config.ts';
import { createTicketWorker } from './create-worker.ts';

const config = loadWorkerConfig();
Runtime.install({ logger: new DefaultLogger(config.logLevel) });
const { worker, shutdown } = await createTicketWorker(config);
console.log(JSON.stringify({ level: 'info', msg: 'worker started', taskQueue: worker.options.taskQueue }));
// Worker.run() installs SIGINT/SIGTERM handlers and drains in-flight tasks before resolving.
await worker.run();
await shutdown();
