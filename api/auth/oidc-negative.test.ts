/**
 * Negative OIDC tests of the relying party (`index.ts`) against a deliberately faulty provider
 * (`testing/rogue-issuer.ts`): wrong or missing state, wrong audience or issuer, expired ID token, wrong,
 * missing or replayed nonce, PKCE stripped or bypassed, replayed callbacks and codes. Each must be refused
 * with the documented 303 to `/?authError=login_failed`, no session user, and a clear reason in the log.
 * Also the token refresh: against the rogue issuer (rotation, refusal, foreign subject, outage, concurrency)
 * and against the real local provider (oidc-provider 9, refresh token rotation with reuse detection).
 *
 * Starts its own Redis, rogue issuer, local provider and relying parties on free ports; no stack needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadStackConfig, type StackConfig } from '../../stack/lib/config.ts';
import { tcpOpen, waitFor } from '../../stack/lib/proc.ts';
import { DEMO_USERS } from '../../stack/oidc/demo-users.ts';
import { oidc } from '../../stack/servers/oidc.ts';
import { createAuth, OidcDiscoveryError, SESSION_COOKIE, type AuthLogger } from './index.ts';
import { SESSION_KEY_PREFIX } from './session-store.ts';
import { loginAs } from './test-login.ts';
import { startRogueIssuer, type Fault, type RogueIssuer } from './testing/rogue-issuer.ts';

const CLIENT_ID = 'edgeport-test-client';
const CLIENT_SECRET = 'rogue-test-client-secret-0123456789';
const SESSION_SECRET = 'test-session-secret-0123456789abcdef';
const LOGIN_FAILED = '/?authError=login_failed';

interface Warn {
  obj: { code?: string; sub?: string; err?: Record<string, unknown> };
  msg: string;
}

let dataDir: string;
let redisProc: ChildProcess | undefined;
let redis: Redis;
const warns: Warn[] = [];
const logger: AuthLogger = { warn: (obj, msg) => void warns.push({ obj: obj as Warn['obj'], msg }) };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function listen(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The relying party under test: createAuth on `server`, with /whoami behind requireUser. */
async function startRp(server: Server, publicUrl: string, issuer: string, clientSecret: string, clientId = CLIENT_ID): Promise<void> {
  const auth = await createAuth({
    config: { issuer, clientId, clientSecret, publicUrl, sessionSecret: SESSION_SECRET, secureCookies: false },
    redis,
    logger,
  });
  const app = express();
  app.use(auth.session);
  app.use(...auth.passport);
  app.use(auth.router);
  app.get('/whoami', auth.requireUser, (req, res) => void res.json(req.user));
  // Errors (e.g. the provider unreachable during a refresh) as a bare 500, without the stack in the log.
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: 'internal' }));
  server.on('request', app);
}

/** One browser: the RP's session cookie, manual redirects. The rogue issuer sets no cookies. */
class Browser {
  cookie = '';

  constructor(private readonly rpUrl: string) {}

  async get(url: string | URL): Promise<Response> {
    const target = new URL(url, this.rpUrl);
    const headers: Record<string, string> = { Accept: 'text/html' };
    if (this.cookie && target.origin === new URL(this.rpUrl).origin) headers.Cookie = this.cookie;
    const res = await fetch(target, { headers, redirect: 'manual' });
    const line = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    if (line) this.cookie = line.split(';')[0]!;
    return res;
  }

  /** Status of /whoami (behind requireUser). */
  async whoami(): Promise<number> {
    const res = await this.get('/whoami');
    await res.body?.cancel();
    return res.status;
  }
}

function sidOf(cookie: string): string {
  const raw = decodeURIComponent(/edgeport\.sid=([^;]+)/.exec(cookie)?.[1] ?? '');
  const sid = /^s:([^.]+)\./.exec(raw)?.[1];
  if (!sid) throw new Error(`no signed session id in ${cookie}`);
  return sid;
}

interface SessionRecord {
  passport?: { user?: { sub: string } };
  tokens?: { idToken?: string; refreshToken?: string; accessTokenExpiresAt?: number };
  oidcAuthorization?: unknown;
}

async function sessionRecord(cookie: string): Promise<SessionRecord | null> {
  const raw = await redis.get(SESSION_KEY_PREFIX + sidOf(cookie));
  return raw === null ? null : (JSON.parse(raw) as SessionRecord);
}

async function patchTokens(cookie: string, patch: Partial<NonNullable<SessionRecord['tokens']>>): Promise<void> {
  const record = (await sessionRecord(cookie))!;
  await redis.set(SESSION_KEY_PREFIX + sidOf(cookie), JSON.stringify({ ...record, tokens: { ...record.tokens, ...patch } }), 'KEEPTTL');
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'edgeport-oidc-negative-'));
  const port = await freePort();
  redisProc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dataDir], { stdio: 'ignore' });
  await waitFor('redis-server', () => tcpOpen('127.0.0.1', port), { timeoutMs: 10_000, intervalMs: 50 });
  redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
}, 30_000);

afterAll(async () => {
  await redis?.quit().catch(() => undefined);
  if (redisProc?.pid !== undefined && redisProc.exitCode === null) {
    const exited = new Promise((resolve) => redisProc!.once('exit', resolve));
    redisProc.kill('SIGTERM');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('OIDC negative paths against a faulty provider', () => {
  let issuer: RogueIssuer;
  let rpServer: Server | undefined;
  let rpUrl: string;

  beforeAll(async () => {
    issuer = await startRogueIssuer();
    rpServer = createHttpServer();
    rpUrl = await listen(rpServer);
    issuer.register({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `${rpUrl}/auth/callback` });
    await startRp(rpServer, rpUrl, issuer.url, CLIENT_SECRET);
  });

  afterAll(async () => {
    await close(rpServer);
    await issuer?.close();
  });

  beforeEach(() => {
    warns.length = 0;
    issuer.fault = 'none';
    issuer.resetRecords();
  });

  /** `/auth/login` → the issuer's `/authorize`; returns the authorization URL the RP built and the issuer's redirect back (not yet delivered). */
  async function authorize(b: Browser, tamper?: (authUrl: URL) => void): Promise<{ authUrl: URL; callbackUrl: URL }> {
    const start = await b.get('/auth/login?returnTo=%2Fdone');
    expect(start.status).toBe(302);
    const authUrl = new URL(start.headers.get('location')!);
    expect(`${authUrl.origin}${authUrl.pathname}`).toBe(`${issuer.url}/authorize`);
    tamper?.(authUrl);
    const atIssuer = await fetch(authUrl, { redirect: 'manual' });
    expect(atIssuer.status).toBe(302);
    const callbackUrl = new URL(atIssuer.headers.get('location')!);
    expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(`${rpUrl}/auth/callback`);
    return { authUrl, callbackUrl };
  }

  /** Delivers a callback URL in browser `b`; returns where the RP sends the browser next. */
  async function deliver(b: Browser, callbackUrl: URL): Promise<string> {
    const res = await b.get(callbackUrl);
    expect(res.status).toBe(303);
    return res.headers.get('location')!;
  }

  async function login(b: Browser, tamper?: (authUrl: URL) => void): Promise<{ authUrl: URL; callbackUrl: URL; location: string }> {
    const { authUrl, callbackUrl } = await authorize(b, tamper);
    return { authUrl, callbackUrl, location: await deliver(b, callbackUrl) };
  }

  /** The documented failure: 303 to login_failed, no session user, one `login failed` warning; returns its `err`. */
  async function expectRefused(b: Browser, location: string): Promise<Record<string, unknown>> {
    expect(location).toBe(LOGIN_FAILED);
    expect(await b.whoami()).toBe(401);
    if (b.cookie) expect((await sessionRecord(b.cookie))?.passport?.user).toBeUndefined();
    const failures = warns.filter((w) => w.msg === 'login failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.obj.code).toBe('login_failed');
    // The log carries reasons, never tokens.
    expect(JSON.stringify(warns)).not.toMatch(/eyJ/);
    return failures[0]!.obj.err!;
  }

  it('logs in against a correct issuer; every authorization request carries PKCE S256, state and nonce', async () => {
    const b = new Browser(rpUrl);
    const { location } = await login(b);
    expect(location).toBe('/done');
    expect(await b.whoami()).toBe(200);
    expect(await (await b.get('/whoami')).json()).toEqual({ sub: 'rogue-user-1', name: 'Rita Rogue', email: 'rita@example.test', username: 'rita' });
    expect(warns).toEqual([]);

    await login(new Browser(rpUrl));
    expect(issuer.authorizeRequests).toHaveLength(2);
    for (const q of issuer.authorizeRequests) {
      expect(q).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: `${rpUrl}/auth/callback`, code_challenge_method: 'S256' });
      expect(q.scope?.split(' ')).toContain('openid');
      expect(q.code_challenge).toMatch(/^[\w-]{43}$/);
      expect(q.state).toMatch(/^[\w-]{43}$/);
      expect(q.nonce).toMatch(/^[\w-]{43}$/);
    }
    const [a, c] = issuer.authorizeRequests as [Record<string, string>, Record<string, string>];
    expect(new Set([a.state, c.state, a.nonce, c.nonce, a.code_challenge, c.code_challenge]).size).toBe(6);
    // Every code redemption was authenticated and carried the verifier matching the challenge.
    expect(issuer.tokenRequests).toHaveLength(2);
    for (const t of issuer.tokenRequests) expect(t).toMatchObject({ grantType: 'authorization_code', clientAuthenticated: true, pkceVerified: true });
    expect(issuer.reports).toEqual([]);
  });

  // Each fault, and the reason the RP logs for it (openid-client's validation message, in err.reason).
  it.each<[string, Fault, Record<string, unknown>, boolean]>([
    ['wrong state', 'wrong-state', { name: 'ClientError', code: 'OAUTH_INVALID_RESPONSE', reason: 'unexpected "state" response parameter value' }, false],
    ['missing state', 'missing-state', { name: 'ClientError', code: 'OAUTH_INVALID_RESPONSE', reason: 'response parameter "state" missing' }, false],
    [
      'wrong audience',
      'wrong-aud',
      { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', reason: 'unexpected JWT "aud" (audience) claim value' },
      true,
    ],
    [
      'wrong issuer in the ID token',
      'wrong-iss',
      { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', reason: 'unexpected JWT "iss" (issuer) claim value' },
      true,
    ],
    [
      'expired ID token',
      'expired',
      {
        name: 'ClientError',
        code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
        reason: 'unexpected JWT "exp" (expiration time) claim value, expiration is past current timestamp',
      },
      true,
    ],
    [
      'nonce that differs',
      'wrong-nonce',
      { name: 'ClientError', code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', reason: 'unexpected ID Token "nonce" claim value' },
      true,
    ],
    ['nonce missing', 'missing-nonce', { name: 'ClientError', code: 'OAUTH_INVALID_RESPONSE', reason: 'JWT "nonce" (nonce) claim missing' }, true],
  ])('refuses a login with a %s', async (_name, fault, expectedErr, reachesTokenEndpoint) => {
    issuer.fault = fault;
    const b = new Browser(rpUrl);
    const { location } = await login(b);
    expect(await expectRefused(b, location)).toMatchObject(expectedErr);
    expect(issuer.tokenRequests.length > 0).toBe(reachesTokenEndpoint);
  });

  it("refuses a replayed ID token (the previous login's nonce)", async () => {
    expect((await login(new Browser(rpUrl))).location).toBe('/done');
    warns.length = 0;
    issuer.fault = 'replay-id-token';
    const b = new Browser(rpUrl);
    const { location } = await login(b);
    expect(await expectRefused(b, location)).toMatchObject({
      name: 'ClientError',
      code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
      reason: 'unexpected ID Token "nonce" claim value',
    });
  });

  it('refuses a login whose authorization request lost its PKCE code_challenge', async () => {
    const b = new Browser(rpUrl);
    const { location } = await login(b, (u) => {
      u.searchParams.delete('code_challenge');
      u.searchParams.delete('code_challenge_method');
    });
    expect(issuer.reports).toEqual(['authorization request without PKCE S256 code_challenge']);
    expect(await expectRefused(b, location)).toMatchObject({
      name: 'AuthorizationResponseError',
      code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR',
      error: 'invalid_request',
      error_description: 'PKCE code_challenge with code_challenge_method=S256 is required',
    });
    expect(issuer.tokenRequests).toEqual([]);
  });

  it("refuses an injected code (issued for another browser's PKCE challenge) with the victim's state", async () => {
    const attacker = new Browser(rpUrl);
    const victim = new Browser(rpUrl);
    const stolen = (await authorize(attacker)).callbackUrl;
    const { callbackUrl } = await authorize(victim);
    callbackUrl.searchParams.set('code', stolen.searchParams.get('code')!);
    const location = await deliver(victim, callbackUrl);
    // The RP sent the victim's verifier; it does not match the challenge the code is bound to.
    expect(issuer.tokenRequests).toHaveLength(1);
    expect(issuer.tokenRequests[0]).toMatchObject({ codeVerifier: expect.any(String), pkceVerified: false });
    expect(issuer.reports).toEqual(['PKCE verification failed']);
    expect(await expectRefused(victim, location)).toMatchObject({
      name: 'ResponseBodyError',
      code: 'OAUTH_RESPONSE_BODY_ERROR',
      error: 'invalid_grant',
      error_description: 'PKCE verification failed',
    });
  });

  it('refuses a replayed callback URL (same code and state) the second time', async () => {
    const b = new Browser(rpUrl);
    const { callbackUrl, location } = await login(b);
    expect(location).toBe('/done');
    const redemptions = issuer.tokenRequests.length;

    // Replayed in another browser (no session) and in the same, now signed-in, browser: the RP consumed the
    // login's state and verifier with the first callback and never redeems the code again.
    for (const browser of [new Browser(rpUrl), b]) {
      warns.length = 0;
      expect(await deliver(browser, callbackUrl)).toBe(LOGIN_FAILED);
      expect(warns).toHaveLength(1);
      expect(warns[0]).toMatchObject({ msg: 'login failed', obj: { code: 'login_failed', err: { message: 'Unable to verify authorization request state' } } });
    }
    expect(issuer.tokenRequests).toHaveLength(redemptions);
    expect(await b.whoami()).toBe(200); // the first login stands

    // Replayed into a browser with a login of its own in progress: that login's state does not match.
    warns.length = 0;
    const other = new Browser(rpUrl);
    await authorize(other);
    expect(await expectRefused(other, await deliver(other, callbackUrl))).toMatchObject({ reason: 'unexpected "state" response parameter value' });
    expect(issuer.tokenRequests).toHaveLength(redemptions);
  });

  it("refuses a used code replayed with a fresh login's state (the issuer refuses the second redemption)", async () => {
    const { callbackUrl: used } = await login(new Browser(rpUrl));
    warns.length = 0;
    const attacker = new Browser(rpUrl);
    const { callbackUrl } = await authorize(attacker);
    callbackUrl.searchParams.set('code', used.searchParams.get('code')!);
    const location = await deliver(attacker, callbackUrl);
    expect(issuer.reports).toEqual(['authorization code replayed']);
    expect(await expectRefused(attacker, location)).toMatchObject({
      name: 'ResponseBodyError',
      error: 'invalid_grant',
      error_description: 'authorization code already used',
    });
  });

  it('refuses to start against an issuer that does not advertise PKCE S256', async () => {
    const noPkce = await startRogueIssuer({ advertisePkce: false });
    try {
      const err = await createAuth({
        config: {
          issuer: noPkce.url,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          publicUrl: 'http://127.0.0.1:1',
          sessionSecret: SESSION_SECRET,
          secureCookies: false,
        },
        redis,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OidcDiscoveryError);
      expect((err as Error).message).toBe(`OpenID discovery failed for ${noPkce.url}`);
      expect(((err as Error).cause as Error).message).toBe('the issuer does not advertise PKCE S256 (code_challenge_methods_supported)');
    } finally {
      await noPkce.close();
    }
  });

  describe('token refresh', () => {
    async function signedIn(): Promise<Browser> {
      const b = new Browser(rpUrl);
      expect((await login(b)).location).toBe('/done');
      issuer.resetRecords();
      return b;
    }

    const refreshes = (): number => issuer.tokenRequests.filter((t) => t.grantType === 'refresh_token').length;

    it('keeps the access token expiry and does not refresh before it', async () => {
      const before = Date.now();
      const b = await signedIn();
      const tokens = (await sessionRecord(b.cookie))!.tokens!;
      expect(tokens.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + 300_000);
      expect(tokens.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
      expect(await b.whoami()).toBe(200);
      expect(refreshes()).toBe(0);
    });

    it('refreshes an expired access token with the stored refresh token and keeps the rotated one', async () => {
      const b = await signedIn();
      const old = (await sessionRecord(b.cookie))!.tokens!;
      await patchTokens(b.cookie, { accessTokenExpiresAt: Date.now() - 1000 });

      expect(await b.whoami()).toBe(200);
      expect(issuer.tokenRequests).toEqual([{ grantType: 'refresh_token', clientAuthenticated: true, refreshToken: old.refreshToken }]);
      const fresh = (await sessionRecord(b.cookie))!.tokens!;
      expect(fresh.refreshToken).toBeTruthy();
      expect(fresh.refreshToken).not.toBe(old.refreshToken);
      expect(fresh.idToken).not.toBe(old.idToken);
      expect(fresh.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 250_000);

      expect(await b.whoami()).toBe(200);
      expect(refreshes()).toBe(1);
      expect(warns).toEqual([]);
    });

    it('redeems the refresh token once for concurrent requests', async () => {
      const b = await signedIn();
      await patchTokens(b.cookie, { accessTokenExpiresAt: Date.now() - 1000 });
      const statuses = await Promise.all(Array.from({ length: 6 }, () => b.whoami()));
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      expect(refreshes()).toBe(1);
      expect(issuer.reports).toEqual([]);
    });

    it.each<[string, Fault, Record<string, unknown>]>([
      [
        'refuses the refresh token',
        'refresh-refused',
        { name: 'ResponseBodyError', error: 'invalid_grant', error_description: 'refresh token expired or revoked' },
      ],
      [
        'returns an ID token for another subject',
        'refresh-other-sub',
        { name: 'TokenRefreshRefusedError', message: 'refreshed ID token names another subject' },
      ],
    ])('ends the session when the provider %s', async (_name, fault, expectedErr) => {
      const b = await signedIn();
      await patchTokens(b.cookie, { accessTokenExpiresAt: Date.now() - 1000 });
      issuer.fault = fault;

      const sid = sidOf(b.cookie);
      const res = await b.get('/whoami');
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toBe('The session has expired; sign in again.');
      // The signed-in session is gone (tokens included); the browser holds a fresh, empty one.
      expect(await redis.exists(SESSION_KEY_PREFIX + sid)).toBe(0);
      expect(sidOf(b.cookie)).not.toBe(sid);
      expect(await sessionRecord(b.cookie)).not.toHaveProperty('passport');
      expect(await b.whoami()).toBe(401);
      expect(warns).toHaveLength(1);
      expect(warns[0]).toMatchObject({ msg: 'token refresh refused; session ended', obj: { code: 'refresh_failed', sub: 'rogue-user-1', err: expectedErr } });
      expect(JSON.stringify(warns)).not.toMatch(/eyJ/);
    });

    it('fails the request but keeps the session while the provider is unreachable', async () => {
      const b = await signedIn();
      await patchTokens(b.cookie, { accessTokenExpiresAt: Date.now() - 1000 });
      issuer.fault = 'refresh-unavailable';
      expect(await b.whoami()).toBe(500);
      expect((await sessionRecord(b.cookie))?.passport?.user?.sub).toBe('rogue-user-1');

      issuer.fault = 'none';
      expect(await b.whoami()).toBe(200);
      expect(refreshes()).toBe(2);
    });
  });
});

describe('token refresh against the local OpenID provider', () => {
  const tenant = DEMO_USERS.find((u) => u.username === 'tenant')!;
  let cfg: StackConfig | undefined;
  let rpServer: Server | undefined;
  let baseUrl: string;

  async function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  }

  beforeAll(async () => {
    let base = 0;
    for (let i = 0; i < 50 && !base; i++) {
      const b = 30_000 + 100 * Math.floor(Math.random() * 300);
      if ((await Promise.all([40, 50].map((o) => portFree(b + o)))).every(Boolean)) base = b;
    }
    if (!base) throw new Error('no free port base');
    cfg = loadStackConfig('test', { EDGEPORT_PORT_BASE: String(base), EDGEPORT_DATA_DIR: join(dataDir, 'stack') });
    await oidc.start(cfg);
    const env = oidc.env(cfg);
    rpServer = createHttpServer();
    baseUrl = await listen(rpServer, cfg.ports.api);
    expect(baseUrl).toBe(env.EDGEPORT_PUBLIC_URL);
    await startRp(rpServer, baseUrl, env.EDGEPORT_OIDC_ISSUER!, env.EDGEPORT_OIDC_CLIENT_SECRET!, env.EDGEPORT_OIDC_CLIENT_ID!);
  }, 90_000);

  afterAll(async () => {
    await close(rpServer);
    if (cfg) await oidc.stop(cfg);
  }, 30_000);

  it('refreshes with the rotating refresh token, once for concurrent requests, and again later', async () => {
    warns.length = 0;
    const cookie = await loginAs(baseUrl, tenant.username, tenant.password);
    const whoami = async (): Promise<number> => (await fetch(`${baseUrl}/whoami`, { headers: { Cookie: cookie } })).status;
    const tokens = async (): Promise<NonNullable<SessionRecord['tokens']>> => (await sessionRecord(cookie))!.tokens!;

    const first = await tokens();
    // oidc-provider's access tokens live 5 minutes.
    expect(first.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 290_000);
    expect(first.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() + 300_000);

    await patchTokens(cookie, { accessTokenExpiresAt: Date.now() - 1000 });
    // Concurrent requests share one redemption: a second one of the rotated token would make oidc-provider
    // revoke the grant, and the next refresh below would fail.
    expect(await Promise.all([whoami(), whoami(), whoami(), whoami()])).toEqual([200, 200, 200, 200]);
    const second = await tokens();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // RS256 is deterministic: within the same second as the login, the refreshed ID token may equal the first.
    expect(second.idToken).toMatch(/^ey/);
    expect(second.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 290_000);

    await patchTokens(cookie, { accessTokenExpiresAt: Date.now() - 1000 });
    expect(await whoami()).toBe(200);
    expect((await tokens()).refreshToken).not.toBe(second.refreshToken);
    expect(warns).toEqual([]);
  });
});
