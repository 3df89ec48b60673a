import { createServer, type Server } from 'node:http';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { redisConnection } from '../infra/redis.ts';
import { checkReadiness, type DependencyCheck } from '../services/readiness.ts';
import type { Store } from '../store/index.ts';

export interface WorkerHealthOptions {
  port: number;
  host: string;
  worker: Worker;
  store: Store;
  /** BullMQ's Redis, when this worker runs background jobs. */
  redisUrl?: string;
  timeoutMs: number;
}

/**
 * The worker's probe endpoint (EDGEPORT_WORKER_HEALTH_PORT): `/healthz` (the process answers) and `/readyz` —
 * the Temporal worker is polling (state RUNNING), MongoDB answers a ping and, with background jobs, BullMQ's
 * Redis does. Same body as the api's `/readyz`.
 */
export async function startWorkerHealth(o: WorkerHealthOptions): Promise<{ close(): Promise<void> }> {
  const redis = o.redisUrl ? new Redis({ ...redisConnection(o.redisUrl), lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  const checks: DependencyCheck[] = [
    {
      name: 'worker',
      check: async () => {
        if (o.worker.getState() !== 'RUNNING') throw new Error(`worker ${o.worker.getState()}`);
      },
    },
    { name: 'mongodb', check: () => o.store.ping() },
    ...(redis ? [{ name: 'redis' as const, check: () => redis.ping() }] : []),
  ];
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { title: 'Method Not Allowed', status: 405 });
    if (req.url === '/healthz') return send(200, { ok: true });
    if (req.url === '/readyz') {
      void checkReadiness(checks, o.timeoutMs).then((r) => send(r.ready ? 200 : 503, r));
      return;
    }
    send(404, { title: 'Not Found', status: 404 });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.port, o.host, () => resolve()));
  return {
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis?.disconnect();
    },
  };
}
