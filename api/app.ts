import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import express, { type Express, type Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';
import type { AuditStore } from '../store/audit.ts';
import { credentialCipher } from '../store/credentials.ts';
import { configItemService } from './services/config-items.ts';
import type { Store } from '../store/index.ts';
import { failpoints, FAILPOINTS } from '../infra/failpoints.ts';
import { basicTokenAuth } from './auth/basic-token.ts';
import { pullCredentialAuth } from './auth/pull-credential.ts';
import { pullCredentialRoutes } from './routes/pull-credentials.ts';
import { pullCredentialService } from './services/pull-credentials.ts';
import { bearerAuth } from './auth/bearer.ts';
import { requireClientCert } from './auth/client-cert.ts';
import { createAuth } from './auth/index.ts';
import type { ApiConfig } from './config.ts';
import { NotFoundError, problemHandler } from './errors.ts';
import { sameOriginOnly } from './same-origin.ts';
import { securityHeaders } from './security-headers.ts';
import { jsonBodiesOnly } from './json-bodies.ts';
import { AddressSet } from './ip-match.ts';
import { loadCaller } from './routes/caller.ts';
import { mountRoutes, type RouteDef } from './routes/define.ts';
import { apiRoutes } from './routes/index.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { apiTokenService } from './services/api-tokens.ts';
import { billingService } from './services/billing.ts';
import { reportJobService } from './services/report-jobs.ts';
import { REPORT_QUEUE, type ReportJobData, type ReportJobResult } from '../services/report-jobs.ts';
import { Queue } from 'bullmq';
import { certSubjectService } from './services/cert-subjects.ts';
import { ipFilter, ipListService } from './services/ip-lists.ts';
import { poolService } from './services/pools.ts';
import { registryDriverFor } from '../infra/registry/runtime.ts';
import { listAllNodes, nodeView } from '../infra/kube/nodes.ts';
import { registryService } from './services/registry.ts';
import { harborRegistryRoutes } from './routes/harbor-registries.ts';
import { harborRegistryService } from './services/harbor-registries.ts';
import { harborVdcProvisioning } from './services/harbor-provisioning.ts';
import { vdcLifecycle } from './services/vdc-lifecycle.ts';
import { imageService } from './services/images.ts';
import { imageGate } from './services/image-gate.ts';
import { imageCatalogService, registryNotificationHandler } from './services/image-catalog.ts';
import { imageCatalogRoutes } from './routes/image-catalog.ts';
import { ticketService, type TicketService } from './services/tickets.ts';
import { delegationService } from './services/delegations.ts';
import { networkService } from './services/network.ts';
import { volumeService } from './services/volumes.ts';
import { workloadService } from './services/workloads.ts';
import { poolReaders } from './services/pool-reads.ts';
import { poolUsageService } from './services/pool-usage.ts';
import { poolUsageRoutes } from './routes/pool-usage.ts';
import { workloadRoutes } from './routes/workloads.ts';
import { userDirectory } from './services/user-directory.ts';
import { checkReadiness, type DependencyCheck } from '../services/readiness.ts';
import { dependencyMonitor, dependencyOfError, requireDependencies } from './dependencies.ts';

/** The API's version as named in its OpenAPI document. */
const API_VERSION = '0.1.0';

export interface AppDeps {
  config: ApiConfig;
  store: Store;
  temporal: Client;
  redis: Redis;
  log: Logger;
}

/** What `/readyz` checks: each dependency's cheapest real round trip. */
function apiDependencyChecks({ store, redis, temporal, config }: AppDeps): DependencyCheck[] {
  const discovery = new URL('.well-known/openid-configuration', config.oidc.issuer.endsWith('/') ? config.oidc.issuer : `${config.oidc.issuer}/`);
  return [
    { name: 'mongodb', check: () => store.ping() },
    { name: 'redis', check: () => redis.ping() },
    { name: 'temporal', check: (signal) => temporal.connection.withAbortSignal(signal, () => temporal.workflowService.getSystemInfo({})) },
    {
      name: 'oidc',
      check: async (signal) => {
        const res = await fetch(discovery, { signal });
        if (!res.ok) throw new Error(`discovery answered ${res.status}`);
        await res.body?.cancel();
      },
    },
  ];
}

/** Builds the Express app: auth, JSON API, the built portal, one problem-body error handler. */
export async function createApp(
  deps: AppDeps,
): Promise<{ app: Express; tickets: TicketService; audit: AuditStore; routes: RouteDef[]; apiRouter: Router; close(): Promise<void> }> {
  const { config, store, log } = deps;
  const audit = store.audit;
  const crash = failpoints(config.failpoints);
  const trustedProxies = new AddressSet(config.trustedProxies);
  const apiTokens = apiTokenService({ tokens: store.apiTokens, users: store.users, audit });
  const ipLists = ipListService({ store: store.ipLists, audit, cacheMs: config.ipListCacheMs, log });
  const certSubjects = certSubjectService({ users: store.users, audit });
  const pools = poolService({
    pools: store.pools,
    temporal: deps.temporal,
    taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
    cipher: credentialCipher(config.credentials.key, config.credentials.previousKeys),
    audit,
  });
  const delegations = delegationService({ store, delegations: store.delegations, audit });
  const tickets = ticketService({
    store,
    temporal: deps.temporal,
    taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
    approvalTimeoutMs: config.approvalTimeoutMs,
    afterInsert: () => crash(FAILPOINTS.apiAfterInsert),
    delegations,
    ...(config.registry
      ? { imageGate: imageGate({ config: config.registry, scans: store.imageScans, policy: config.images.deploy, log: (msg, err) => log.warn({ err }, msg) }) }
      : {}),
  });
  const priceBook = store.priceBooks;
  const billing = billingService({ store, priceBook, temporal: deps.temporal, audit });
  const lifecycle = vdcLifecycle({ temporal: deps.temporal, taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE });
  const directory = userDirectory({ store, audit, bootstrapAdmins: config.bootstrapAdmins, vdcLifecycle: lifecycle });
  const reportQueue = new Queue<ReportJobData, ReportJobResult>(REPORT_QUEUE, { connection: deps.redis });
  // Redis errors surface on the request that meets them (503); an unheard 'error' event would end the process.
  reportQueue.on('error', (err) => log.warn({ err: err.message }, 'report queue: redis error'));
  const reportJobs = reportJobService({ queue: reportQueue, files: store.reportFiles });
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
    onLogin: async (u, { ip }) => {
      await store.users.touchLogin(u);
      // Fails the login when it cannot be recorded: no unaudited sessions.
      await audit.append({
        actor: { sub: u.sub, name: u.name },
        action: 'auth.login',
        target: `user:${u.sub}`,
        outcome: 'success',
        details: { username: u.username },
        ip,
      });
      // EDGEPORT_BOOTSTRAP_ADMINS and invitations by email; a failure fails the login.
      await directory.onSignIn(u, ip);
    },
    onLoginFailure: async ({ code, ip, username, suppressed }) => {
      const details = { code, ...(username ? { username } : {}), ...(suppressed ? { suppressedBefore: suppressed } : {}) };
      await audit.append({ actor: null, action: 'auth.login.failed', outcome: 'failure', details, ip });
    },
    onLogout: async (u, { ip }) => {
      await audit.append({ actor: { sub: u.sub, name: u.name }, action: 'auth.logout', target: `user:${u.sub}`, outcome: 'success', ip });
    },
    logger: log,
  });

  const app = express();
  app.disable('x-powered-by');
  // CSP, frame-ancestors/X-Frame-Options, nosniff, Referrer-Policy on every answer (README "Browser security headers").
  app.use(securityHeaders({ hsts: config.secureCookies }));
  // req.ip believes X-Forwarded-For only from EDGEPORT_TRUSTED_PROXIES (default loopback).
  app.set('trust proxy', (addr: string) => trustedProxies.has(addr));
  // Exempt from the IP lists so orchestrator probes keep working whatever the lists say; it reveals nothing.
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  // Ready when MongoDB, Redis, Temporal and the identity provider's discovery all answer within the bound.
  const dependencies = apiDependencyChecks(deps);
  // The same checks in the background: while one is down, requests needing it get a 503 at once (api/dependencies.ts).
  const monitor = dependencyMonitor(dependencies, { everyMs: config.dependencies.checkEveryMs, timeoutMs: config.dependencies.timeoutMs });
  app.get('/readyz', async (_req, res) => {
    const r = await checkReadiness(dependencies, config.readyTimeoutMs);
    res.status(r.ready ? 200 : 503).json(r);
  });
  // Every signed-in request reads the IP lists and the caller's bindings (MongoDB) and its session (Redis);
  // submits and decisions start or signal workflows (Temporal). While one is down: 503 at once, nothing queued.
  app.use(['/api', '/auth'], requireDependencies(monitor, ['redis', 'mongodb']));
  app.post(
    ['/api/tickets', '/api/tickets/:id/decisions', '/api/tickets/:id/cancel', '/api/delegated-tickets/:id/decisions'],
    requireDependencies(monitor, ['temporal']),
  );
  app.use(ipFilter(ipLists));
  app.use(sameOriginOnly(config.publicUrl));
  // The registry's push notifications (shared secret header; not a user route): scan on push.
  if (config.registry && config.images.notifySecret) {
    const hook = registryNotificationHandler({
      secret: config.images.notifySecret,
      temporal: deps.temporal,
      taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
      log: (msg, extra) => log.info(extra, msg),
    });
    app.post('/hooks/registry/events', express.json({ type: ['application/json', 'application/vnd.docker.distribution.events.v1+json'], limit: '1mb' }), hook);
  }
  app.use('/api', jsonBodiesOnly);
  app.use(express.json({ limit: '256kb', strict: true }));
  app.use(auth.session, ...auth.passport);
  app.use(auth.router);
  const api = express.Router();
  // EDGEPORT_REGISTRY_DRIVER=harbor: the listing reads Harbor through its driver (Harbor issues its own pull tokens).
  const harborReader = config.harbor ? registryDriverFor({ driver: 'harbor', ...config.harbor }) : undefined;
  const pullCredentials = store.pullCredentials;
  const registry = config.harbor
    ? registryService({ config: { url: config.harbor.url }, driver: harborReader, vdcs: store.vdcs, scans: store.imageScans })
    : config.registry
      ? registryService({ config: config.registry, vdcs: store.vdcs, scans: store.imageScans, pullCredentials })
      : undefined;
  // Kubelets and skopeo pull with a VDC's pull credential (from its `edgeport-pull` Secret): answered before any user auth.
  if (registry && !config.harbor) api.use('/registry/token', pullCredentialAuth(registry));
  // Docker clients send registry credentials (user + API token) as Basic auth to the token endpoint only.
  api.use('/registry/token', basicTokenAuth(apiTokens));
  // Token or session, then the session's client certificate (before requireUser refreshes anything), then grants.
  api.use(bearerAuth(apiTokens), requireClientCert({ config: config.mtls, users: store.users, trustedProxies }), auth.requireUser, loadCaller(store));
  // Image detail and operations: with Harbor the detail (and its scan) is read from Harbor, operations run in the worker.
  const imageSource = config.harbor ? { config: { url: config.harbor.url }, driver: harborReader } : config.registry ? { config: config.registry } : undefined;
  const images =
    imageSource && registry
      ? imageService({
          ...imageSource,
          registry,
          vdcs: store.vdcs,
          scans: store.imageScans,
          temporal: deps.temporal,
          taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
          audit,
        })
      : undefined;
  const configItems = configItemService({
    store,
    temporal: deps.temporal,
    taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
    cipher: credentialCipher(config.credentials.key, config.credentials.previousKeys),
    audit,
  });
  // Interactive reads of tenants' objects: each pool's read-only identity (see README "Reads from pools").
  const readers = poolReaders({
    pools: store.pools,
    cipher: credentialCipher(config.credentials.key, config.credentials.previousKeys),
    timeoutMs: config.poolReadTimeoutMs,
  });
  const registryProvisioning = config.harbor
    ? harborVdcProvisioning({ temporal: deps.temporal, taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE })
    : undefined;
  const routes = apiRoutes({
    store,
    ...(registryProvisioning ? { registryProvisioning } : {}),
    vdcLifecycle: lifecycle,
    tickets,
    delegations,
    audit,
    apiTokens,
    ipLists,
    certSubjects,
    pools,
    billing,
    reportJobs,
    configItems,
    ...(registry ? { registry } : {}),
    ...(images ? { images } : {}),
    nodeJoinCipher: credentialCipher(config.credentials.key, config.credentials.previousKeys),
    network: networkService({ store, temporal: deps.temporal, taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE, audit }),
    volumes: volumeService({ store, temporal: deps.temporal, taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE, audit, readers }),
  });
  if (registry) {
    const categories = store.imageCategories;
    routes.push(...imageCatalogRoutes(imageCatalogService({ categories, registry, vdcs: store.vdcs, audit })));
  }
  // Workloads after deploy: views and logs read the workload's pool with its read-only identity; direct operations run as workflows on the worker.
  routes.push(
    ...workloadRoutes(
      workloadService({
        store,
        audit,
        tickets,
        readers,
        temporal: deps.temporal,
        taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
        poolNodes: (pool) => readers.read(pool, 'list nodes', async (r) => (await listAllNodes(r.core)).map((n) => nodeView(n, 0))),
      }),
    ),
  );
  routes.push(...poolUsageRoutes(poolUsageService({ store, readers })));
  // Image pull credentials per VDC: metadata and rotation (through the VDC's lifecycle workflow).
  routes.push(
    ...pullCredentialRoutes(
      pullCredentialService({ store, credentials: pullCredentials, vdcLifecycle: lifecycle, audit, driver: config.harbor ? 'harbor' : 'local' }),
    ),
  );
  // Third-party Harbor registries: connect (checked by a workflow), browse, delete; operations admins only.
  const harborRegistries = store.harborRegistries;
  routes.push(
    ...harborRegistryRoutes(
      harborRegistryService({
        registries: harborRegistries,
        temporal: deps.temporal,
        taskQueue: config.taskQueue ?? TICKETS_TASK_QUEUE,
        cipher: credentialCipher(config.credentials.key, config.credentials.previousKeys),
        audit,
      }),
    ),
  );
  routes.push(...openApiRoutes(routes, API_VERSION));
  mountRoutes(api, routes);
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
  app.use(problemHandler((msg, err) => log.error({ err }, msg), dependencyOfError));
  // Stops the background dependency checks (before the caller closes the clients they use).
  return { app, tickets, audit, routes, apiRouter: api, close: () => monitor.stop() };
}
