import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig, type StackConfig } from '../../stack/lib/config.ts';
import { tcpOpen, waitFor } from '../../stack/lib/proc.ts';
import { DEMO_USERS } from '../../stack/oidc/demo-users.ts';
import { oidc } from '../../stack/servers/oidc.ts';
import { createAuth, safeReturnTo, SESSION_COOKIE, type SessionUser } from './index.ts';
import { SESSION_KEY_PREFIX } from './session-store.ts';
import { loginAs, TestLoginError } from './test-login.ts';

const HOUR = 3_600_000;
const tenant = DEMO_USERS.find((u) => u.username === 'tenant')!;

let cfg: StackConfig;
let dataDir: string;
let redisProc: ChildProcess | undefined;
let redis: Redis;
let server: Server | undefined;
let baseUrl: string;
let issuer: string;
const logins: SessionUser[] = [];
const loginFailures: { code: string; ip?: string; suppressed?: number }[] = [];

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port base (multiple of 100) whose redis, oidc and api ports are all free: parallel runs do not collide. */
async function freePortBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 30_000 + 100 * Math.floor(Math.random() * 300);
    const offsets = [11, 40, 50];
    if ((await Promise.all(offsets.map((o) => portFree(base + o)))).every(Boolean)) return base;
  }
  throw new Error('no free port base');
}

function sidOf(cookie: string): string {
  const raw = decodeURIComponent(/edgeport\.sid=([^;]+)/.exec(cookie)?.[1] ?? '');
  const sid = /^s:([^.]+)\./.exec(raw)?.[1];
  if (!sid) throw new Error(`no signed session id in ${cookie}`);
  return sid;
}

async function sessionRecord(cookie: string): Promise<Record<string, unknown> | null> {
  const raw = await redis.get(SESSION_KEY_PREFIX + sidOf(cookie));
  return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
}

function cookieFrom(res: Response): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!line) throw new Error('no session cookie set');
  return line.split(';')[0]!;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'edgeport-auth-test-'));
  cfg = loadStackConfig('test', { EDGEPORT_PORT_BASE: String(await freePortBase()), EDGEPORT_DATA_DIR: dataDir });

  redisProc = spawn('redis-server', ['--bind', cfg.host, '--port', String(cfg.ports.redis), '--save', '', '--appendonly', 'no', '--dir', dataDir], {
    stdio: 'ignore',
  });
  await waitFor('redis-server', () => tcpOpen(cfg.host, cfg.ports.redis), { timeoutMs: 10_000, intervalMs: 50 });
  redis = new Redis({ host: cfg.host, port: cfg.ports.redis, maxRetriesPerRequest: 1 });

  await oidc.start(cfg);
  const env = oidc.env(cfg);
  issuer = env.EDGEPORT_OIDC_ISSUER!;
  baseUrl = env.EDGEPORT_PUBLIC_URL!;

  const auth = await createAuth({
    config: {
      issuer,
      clientId: env.EDGEPORT_OIDC_CLIENT_ID!,
      clientSecret: env.EDGEPORT_OIDC_CLIENT_SECRET!,
      publicUrl: baseUrl,
      sessionSecret: 'test-session-secret-0123456789abcdef',
      idleTimeoutMs: 30 * 60_000,
      absoluteTimeoutMs: 12 * HOUR,
      secureCookies: false,
    },
    redis,
    onLogin: async (user) => void logins.push(user),
    onLoginFailure: async (info) => void loginFailures.push(info),
  });

  const app = express();
  app.use(auth.session);
  app.use(...auth.passport);
  app.use(auth.router);
  app.get('/whoami', auth.requireUser, (req, res) => void res.json(req.user));
  app.get('/api/x', auth.requireUser, (_req, res) => void res.json({ ok: true }));
  await new Promise<void>((resolve, reject) => {
    server = app.listen(cfg.ports.api, cfg.host, (err?: Error) => (err ? reject(err) : resolve()));
  });
}, 90_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  await redis?.quit().catch(() => undefined);
  if (cfg) await oidc.stop(cfg);
  if (redisProc?.pid !== undefined && redisProc.exitCode === null) {
    const exited = new Promise((resolve) => redisProc!.once('exit', resolve));
    redisProc.kill('SIGTERM');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('auth against the local OpenID provider', () => {
  it('logs in through the provider and serves the user from the session', async () => {
    const cookie = await loginAs(baseUrl, tenant.username, tenant.password);

    const res = await fetch(`${baseUrl}/whoami`, { headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ sub: tenant.sub, name: tenant.name, email: tenant.email, username: tenant.username });
    // The sign-in hook also gets the provider's email_verified (it decides invitations); the session does not keep it.
    expect(logins.at(-1)).toEqual({ ...(body as object), emailVerified: true });

    // Rolling idle timeout: each response renews the httpOnly, SameSite=Lax cookie.
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i);

    // Tokens live in Redis only, under the prefix, with the idle TTL.
    const record = await sessionRecord(cookie);
    const tokens = record?.tokens as { idToken?: string; refreshToken?: string } | undefined;
    expect(tokens?.idToken).toMatch(/^ey/);
    expect(tokens?.refreshToken).toBeTruthy();
    expect(typeof record?.createdAt).toBe('number');
    const ttl = await redis.pttl(SESSION_KEY_PREFIX + sidOf(cookie));
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
    expect(JSON.stringify(body)).not.toContain(tokens!.idToken!);
  });

  it('issues a new session id at login (no fixation)', async () => {
    const start = await fetch(`${baseUrl}/auth/login`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const preLogin = cookieFrom(start);
    expect(await sessionRecord(preLogin)).not.toBeNull();
    const authUrl = new URL(start.headers.get('location')!);
    expect(authUrl.origin).toBe(issuer);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('state')).toBeTruthy();
    expect(authUrl.searchParams.get('nonce')).toBeTruthy();

    const cookie = await loginAs(baseUrl, tenant.username, tenant.password);
    expect(sidOf(cookie)).not.toBe(sidOf(preLogin));
  });

  it('does not log in with a wrong password', async () => {
    await expect(loginAs(baseUrl, tenant.username, 'wrong-password')).rejects.toBeInstanceOf(TestLoginError);
    await expect(loginAs(baseUrl, 'nobody', 'demo-tenant-pass')).rejects.toBeInstanceOf(TestLoginError);
  });

  it('answers 401 problem+json to /api without a session', async () => {
    for (const headers of [{}, { Cookie: `${SESSION_COOKIE}=s%3Abogus.bogus` }]) {
      const res = await fetch(`${baseUrl}/api/x`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: expect.any(String) });
    }
  });

  it('rejects a callback whose state was never issued', async () => {
    const res = await fetch(`${baseUrl}/auth/callback?code=abc&state=forged&iss=${encodeURIComponent(issuer)}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?authError=login_failed');
  });

  it('a burst of failed callbacks from one address reaches the failure hook at most 10 times a minute', async () => {
    const before = loginFailures.length;
    const statuses = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        fetch(`${baseUrl}/auth/callback?code=c${i}&state=forged${i}&iss=${encodeURIComponent(issuer)}`, { redirect: 'manual' }).then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 303)).toBe(true);
    expect(loginFailures.length - before).toBeLessThanOrEqual(10);
    expect(loginFailures.length).toBeGreaterThan(0);
  });

  it('logout destroys the session and sends the browser to the provider', async () => {
    const cookie = await loginAs(baseUrl, tenant.username, tenant.password);
    const idToken = ((await sessionRecord(cookie))?.tokens as { idToken: string }).idToken;

    const res = await fetch(`${baseUrl}/auth/logout`, { method: 'POST', headers: { Cookie: cookie }, redirect: 'manual' });
    expect(res.status).toBe(303);
    const end = new URL(res.headers.get('location')!);
    expect(`${end.origin}${end.pathname}`).toBe(`${issuer}/session/end`);
    expect(end.searchParams.get('id_token_hint')).toBe(idToken);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${baseUrl}/`);
    expect(res.headers.getSetCookie().join()).toMatch(new RegExp(`${SESSION_COOKIE.replace('.', '\\.')}=;`));

    expect(await sessionRecord(cookie)).toBeNull();
    expect((await fetch(`${baseUrl}/whoami`, { headers: { Cookie: cookie } })).status).toBe(401);
    // The provider accepts the hint and the registered post-logout URI.
    expect((await fetch(end, { redirect: 'manual' })).status).toBe(200);
  });

  it('refuses a session older than the absolute timeout', async () => {
    const cookie = await loginAs(baseUrl, tenant.username, tenant.password);
    expect((await fetch(`${baseUrl}/whoami`, { headers: { Cookie: cookie } })).status).toBe(200);

    const key = SESSION_KEY_PREFIX + sidOf(cookie);
    const record = (await sessionRecord(cookie))!;
    await redis.set(key, JSON.stringify({ ...record, createdAt: Date.now() - 13 * HOUR }), 'KEEPTTL');

    const res = await fetch(`${baseUrl}/whoami`, { headers: { Cookie: cookie } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/expired/);
    expect(await redis.exists(key)).toBe(0);
  });

  it('ignores a returnTo outside the API origin', async () => {
    const returnToOf = async (returnTo: string): Promise<unknown> => {
      const res = await fetch(`${baseUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      return (await sessionRecord(cookieFrom(res)))?.returnTo;
    };
    expect(await returnToOf('https://evil.example/steal')).toBe('/');
    expect(await returnToOf('//evil.example/steal')).toBe('/');
    expect(await returnToOf('/tickets/42?tab=log')).toBe('/tickets/42?tab=log');
  });

  it.each([
    ['/tickets', '/tickets'],
    ['/a?b=c#d', '/a?b=c#d'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example/', '/'],
    ['/\tevil', '/'],
    ['javascript:alert(1)', '/'],
    ['tickets', '/'],
    ['/auth/logout', '/'],
    ['', '/'],
  ])('safeReturnTo(%j) = %j', (input, expected) => {
    expect(safeReturnTo(input, 'http://127.0.0.1:1')).toBe(expected);
  });
});
