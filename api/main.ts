import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import pino from 'pino';
import { openStore } from '../store/index.ts';
import { createApp } from './app.ts';
import { loadApiConfig } from './config.ts';

const log = pino({ name: 'edgeport-api', redact: ['*.password', '*.token', '*.secret', 'req.headers.cookie', 'req.headers.authorization'] });
const config = loadApiConfig();
const store = await openStore(config.mongoUrl);
const connection = await Connection.connect({ address: config.temporalAddress });
const temporal = new Client({ connection, namespace: config.temporalNamespace });
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const { app, tickets } = await createApp({ config, store, temporal, redis, log });

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
    void Promise.all([store.close(), connection.close(), redis.quit()]).finally(() => process.exit(0));
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
