import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import pino from 'pino';
import { openStore } from '../store/index.ts';
import { createApp } from './app.ts';
import { loadApiConfig } from './config.ts';

const log = pino({ name: 'edgeport-api', redact: ['*.password', '*.token', '*.secret', 'req.headers.cookie', 'req.headers.authorization'] });
const config = loadApiConfig();
// Fail fast (api/dependencies.ts): nothing waits in a queue for a dependency that is down, so nothing runs
// after its client gave up; requests get a 503 naming it instead.
const store = await openStore(config.mongoUrl, { failFast: { selectTimeoutMs: config.dependencies.timeoutMs, socketTimeoutMs: 15_000 } });
const connection = await Connection.connect({ address: config.temporalAddress });
const temporal = new Client({ connection, namespace: config.temporalNamespace });
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: config.dependencies.timeoutMs });
// Commands are refused until the connection is ready (no offline queue): give it a moment at start-up.
redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
// (Not events.once: it rejects on the first 'error', and a Redis that is down at start-up is no reason to exit.)
await Promise.race([new Promise((resolve) => redis.once('ready', resolve)), sleep(5000)]);
const { app, tickets, close } = await createApp({ config, store, temporal, redis, log });

const server = app.listen(config.port, config.host, () => log.info({ url: config.publicUrl }, 'api listening'));

// Crash-safe submit: tickets stored but never started (the API died in between) are started here.
const reconcile = async (): Promise<void> => {
  try {
    const n = await tickets.reconcile(config.reconcileEveryMs);
    if (n > 0) log.info({ started: n }, 'reconciler started lost ticket workflows');
  } catch (err) {
    log.warn({ err }, 'reconcile failed');
  }
};
const timer = setInterval(() => void reconcile(), config.reconcileEveryMs);
void reconcile();

const stop = (): void => {
  clearInterval(timer);
  server.close(() => {
    void close()
      .then(() => Promise.all([store.close(), connection.close(), redis.quit()]))
      .finally(() => process.exit(0));
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
