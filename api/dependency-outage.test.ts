import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig } from '../stack/lib/config.ts';
import { tcpOpen } from '../stack/lib/proc.ts';
import { pyVenvDir } from '../stack/lib/py-venv.ts';
import { freePort, startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { testHttp, type TestHttp } from '../stack/testing/http.ts';

/**
 * Dependency outages against real servers: the api runs against a Redis or a MongoDB of its own (started
 * here, so stopping it touches no other test), which is frozen (SIGSTOP: connections stay open, nothing
 * answers), killed and restarted. Each time requests answer 503 naming the dependency with Retry-After in
 * about the fail-fast bound, `/readyz` says so, nothing the client gave up on runs later, and the api
 * recovers without a restart.
 */
const BOUND_MS = 1000;
const SLACK_MS = 2500; // a loaded two-CPU machine
const dirs: string[] = [];

interface Owned {
  port: number;
  proc: ChildProcess;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function owned(cmd: (port: number, dir: string) => [string, string[]]): Promise<Owned> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'edgeport-outage-'));
  dirs.push(dir);
  const o: Owned = {
    port,
    proc: undefined as unknown as ChildProcess,
    async start() {
      const [bin, args] = cmd(port, dir);
      o.proc = spawn(bin, args, { stdio: 'ignore' });
      for (let i = 0; i < 100 && !(await tcpOpen('127.0.0.1', port)); i++) await sleep(100);
    },
    async stop() {
      if (o.proc.exitCode !== null || o.proc.signalCode !== null) return;
      const exited = new Promise((r) => o.proc.once('exit', r));
      o.proc.kill('SIGCONT');
      o.proc.kill('SIGKILL');
      await exited;
    },
  };
  await o.start();
  return o;
}

const redisServer = (): Promise<Owned> =>
  owned((port, dir) => ['redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '']]);
const mongoServer = (): Promise<Owned> =>
  owned((port, dir) => [
    join(pyVenvDir(loadStackConfig('test')), 'bin', 'secantusd-py'),
    ['--host', '127.0.0.1', '--port', String(port), '--storage-path', join(dir, 'db'), '--log-level', 'WARNING'],
  ]);

const fast = { EDGEPORT_DEPENDENCY_TIMEOUT_MS: String(BOUND_MS), EDGEPORT_DEPENDENCY_CHECK_MS: '300', EDGEPORT_READY_TIMEOUT_MS: String(BOUND_MS) };

/** Sends `n` requests one after another; every one must be a 503 naming `dependency`, each within the slack. */
async function expectRefused(http: TestHttp, user: string, dependency: string, n = 5): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await http.call(user, 'GET', '/api/me');
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body).toMatchObject({ status: 503, dependency });
    expect(r.headers.get('retry-after')).toBe('5');
    times.push(r.ms);
  }
  expect(Math.max(...times)).toBeLessThan(SLACK_MS);
  return times;
}

async function until(pred: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const readyz = async (api: TestApi): Promise<any> => (await fetch(`${api.base}/readyz`)).json();

/**
 * Waits until `/readyz` reports the dependency down, then two more monitor rounds (check interval + bound):
 * from then on the api refuses requests at once. A request already in flight at the freeze waits for its own
 * bound (socket timeout) instead — see the README's limits.
 */
async function detected(api: TestApi, dependency: 'redis' | 'mongodb'): Promise<void> {
  await until(async () => (await readyz(api)).checks[dependency]?.ok === false, `readyz to report ${dependency}`);
  await sleep(2 * (300 + BOUND_MS) + 200); // a frozen server counts as down after two slow rounds
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Redis outage', () => {
  let redis: Owned;
  let api: TestApi;
  let http: TestHttp;

  beforeAll(async () => {
    redis = await redisServer();
    api = await startTestApi({ ...fast, EDGEPORT_REDIS_URL: `redis://127.0.0.1:${redis.port}/0` });
    http = testHttp({ base: api.base });
    await http.login('tenant');
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await redis?.stop();
  });

  it('frozen: 503 naming redis within the bound, /readyz says so, and the session works again after', async () => {
    expect((await http.call('tenant', 'GET', '/api/me')).status).toBe(200);
    redis.proc.kill('SIGSTOP');
    try {
      await detected(api, 'redis');
      const times = await expectRefused(http, 'tenant', 'redis');
      console.log(`frozen redis: 503 in ${times.map(Math.round).join(', ')} ms`);
      // A submit refused during the outage must not run when Redis answers again.
      const key = `outage-${Date.now()}`;
      const r = await http.call('tenant', 'POST', '/api/tickets', { vdcId: 'demo', type: 'quota-change', quota: { cpu: 1.1 } }, { 'idempotency-key': key });
      expect(r.status).toBe(503);
    } finally {
      redis.proc.kill('SIGCONT');
    }
    // The same session: a request that could not read it must not have destroyed it.
    await until(async () => (await http.call('tenant', 'GET', '/api/me')).status === 200, 'the api to answer again');
    const mine = await http.call<{ items?: unknown[] } | unknown[]>('tenant', 'GET', '/api/tickets?scope=mine');
    expect(JSON.stringify(mine.body)).not.toContain('"cpu":1.1');
  });

  it('stopped and restarted: 503 naming redis at once, then the same session again without restarting the api', async () => {
    await redis.stop();
    await detected(api, 'redis');
    await expectRefused(http, 'tenant', 'redis');
    await redis.start();
    await until(async () => (await http.call('tenant', 'GET', '/api/me')).status === 200, 'the api to answer again');
    expect((await readyz(api)).ready).toBe(true);
  });
});

describe('MongoDB outage', () => {
  let mongo: Owned;
  let api: TestApi;
  let http: TestHttp;

  beforeAll(async () => {
    mongo = await mongoServer();
    api = await startTestApi({ ...fast, EDGEPORT_MONGO_URL: `mongodb://127.0.0.1:${mongo.port}/edgeport_outage?directConnection=true` });
    http = testHttp({ base: api.base });
    await http.login('tenant');
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await mongo?.stop();
  });

  it('frozen: once detected, 503 naming mongodb within the bound; recovers when it answers again', async () => {
    expect((await http.call('tenant', 'GET', '/api/me')).status).toBe(200);
    mongo.proc.kill('SIGSTOP');
    try {
      await detected(api, 'mongodb');
      const times = await expectRefused(http, 'tenant', 'mongodb');
      console.log(`frozen mongodb: 503 in ${times.map(Math.round).join(', ')} ms`);
    } finally {
      mongo.proc.kill('SIGCONT');
    }
    await until(async () => (await http.call('tenant', 'GET', '/api/me')).status === 200, 'the api to answer again');
  });

  it('stopped and restarted: 503 naming mongodb, then answers again without restarting the api', async () => {
    await mongo.stop();
    await detected(api, 'mongodb');
    await expectRefused(http, 'tenant', 'mongodb');
    await mongo.start();
    await until(async () => (await http.call('tenant', 'GET', '/api/me')).status === 200, 'the api to answer again', 40_000);
  });
});
