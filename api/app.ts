import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';
import type { Store } from '../store/index.ts';
import { failpoints, FAILPOINTS } from '../activities/failpoints.ts';
import { createAuth } from './auth/index.ts';
import type { ApiConfig } from './config.ts';
import { NotFoundError, problemHandler } from './errors.ts';
import { loadCaller } from './routes/caller.ts';
import { mountRoutes } from './routes/define.ts';
import { apiRoutes } from './routes/index.ts';
import { ticketService, type TicketService } from './services/tickets.ts';

export interface AppDeps {
  config: ApiConfig;
  store: Store;
  temporal: Client;
  redis: Redis;
  log: Logger;
}

/** Builds the Express app: auth, JSON API, the built portal, one problem-body error handler. */
export async function createApp(deps: AppDeps): Promise<{ app: Express; tickets: TicketService }> {
  const { config, store, log } = deps;
  const crash = failpoints(config.failpoints);
  const tickets = ticketService({
    store,
    temporal: deps.temporal,
    taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
    approvalTimeoutMs: config.approvalTimeoutMs,
    afterInsert: () => crash(FAILPOINTS.apiAfterInsert),
  });
  const auth = await createAuth({
    config: {
      issuer: config.oidc.issuer,
      clientId: config.oidc.clientId,
      clientSecret: config.oidc.clientSecret,
      publicUrl: config.publicUrl,
      sessionSecret: config.sessionSecret,
      idleTimeoutMs: config.idleTimeoutMs,
      absoluteTimeoutMs: config.absoluteTimeoutMs,
      secureCookies: config.secureCookies,
    },
    redis: deps.redis,
    onLogin: (u) => store.users.touchLogin(u),
    logger: log,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.use(express.json({ limit: '256kb', strict: true }));
  app.use(auth.session, ...auth.passport);
  app.use(auth.router);
  const api = express.Router();
  api.use(auth.requireUser, loadCaller(store));
  mountRoutes(api, apiRoutes({ store, tickets }));
  api.use(() => {
    throw new NotFoundError('no such API route');
  });
  app.use('/api', api);

  const portalDir = config.portalDir ?? join(import.meta.dirname, '..', 'portal', 'dist');
  if (existsSync(portalDir)) {
    app.use(express.static(portalDir, { index: false, maxAge: '1h' }));
    // History-mode SPA: every other GET renders the portal shell.
    app.get('/{*path}', (_req, res) => res.sendFile(join(portalDir, 'index.html'), { maxAge: 0 }));
  }
  app.use(problemHandler((msg, err) => log.error({ err }, msg)));
  return { app, tickets };
}
