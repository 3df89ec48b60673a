import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { freePort, startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { appEnvFromProcess } from '../stack/testing/env.ts';

/**
 * `/readyz` of the api and the worker against the real stack, and with a frozen dependency: a TCP server that
 * accepts connections and never answers (what a SIGSTOPped Redis looks like to a client). The probe must say
 * which dependency is missing within its bound instead of hanging.
 */
const repoDir = new URL('..', import.meta.url).pathname;
const TIMEOUT_MS = 700;
let api: TestApi;
let frozenApi: TestApi;
let worker: AppProcess;
let workerPort: number;
let blackHole: Server;
const held: Socket[] = [];

beforeAll(async () => {
  blackHole = createServer((s) => void held.push(s));
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', () => resolve()));
  const frozen = (blackHole.address() as { port: number }).port;
  workerPort = await freePort();
  worker = startApp(repoDir, 'worker', {
    ...appEnvFromProcess(),
    EDGEPORT_WORKER_HEALTH_PORT: String(workerPort),
    EDGEPORT_READY_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  [api, frozenApi] = await Promise.all([
    startTestApi({ EDGEPORT_READY_TIMEOUT_MS: String(TIMEOUT_MS) }, { port: 'free' }),
    startTestApi({ EDGEPORT_READY_TIMEOUT_MS: String(TIMEOUT_MS), EDGEPORT_REDIS_URL: `redis://127.0.0.1:${frozen}/0` }, { port: 'free' }),
  ]);
  await waitForWorker(worker);
}, 180_000);

afterAll(async () => {
  for (const s of held) s.destroy();
  blackHole?.close();
  await Promise.all([api?.stop(), frozenApi?.stop(), worker?.stop()]);
});

async function get(url: string): Promise<{ status: number; body: any; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), ms: performance.now() - t0 };
}

describe('api /readyz', () => {
  it('is ready when MongoDB, Redis, Temporal and the identity provider answer, with each latency', async () => {
    const r = await get(`${api.base}/readyz`);
    expect(r.status).toBe(200);
    expect(r.body.ready).toBe(true);
    expect(Object.keys(r.body.checks).sort()).toEqual(['mongodb', 'oidc', 'redis', 'temporal']);
    for (const c of Object.values(r.body.checks) as { ok: boolean; ms: number }[]) {
      expect(c.ok).toBe(true);
      expect(c.ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('names a frozen Redis within its bound and keeps /healthz (process alive) at 200', async () => {
    const r = await get(`${frozenApi.base}/readyz`);
    expect(r.status).toBe(503);
    expect(r.body.ready).toBe(false);
    // Never ready (its ready check got no answer), so the client refuses the PING at once instead of queueing it.
    expect(r.body.checks.redis.ok).toBe(false);
    expect(r.body.checks.redis.error).toMatch(new RegExp(`^(unavailable|no answer within ${TIMEOUT_MS} ms)$`));
    expect(r.body.checks.mongodb.ok).toBe(true);
    expect(r.body.checks.temporal.ok).toBe(true);
    // The bound holds: the probe does not wait for the frozen server (generous slack for a loaded machine).
    expect(r.body.checks.redis.ms).toBeLessThan(TIMEOUT_MS + 1500);
    expect(JSON.stringify(r.body)).not.toContain('127.0.0.1');
    expect((await get(`${frozenApi.base}/healthz`)).status).toBe(200);
  });
});

describe('worker /readyz', () => {
  it('reports the Temporal poller, MongoDB and Redis', async () => {
    const r = await get(`http://127.0.0.1:${workerPort}/readyz`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ready: true, checks: { worker: { ok: true }, mongodb: { ok: true }, redis: { ok: true } } });
    expect((await get(`http://127.0.0.1:${workerPort}/healthz`)).body).toEqual({ ok: true });
  });
});
