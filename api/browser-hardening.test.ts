import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, waitForApi, type AppProcess } from '../stack/lib/apps.ts';
import { appEnvFromProcess, stackEnv } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './security-headers.ts';

/**
 * Browser hardening of the real API (issue 19): the security headers on every kind of answer, and logout by
 * POST only under the same-origin guard (a GET, e.g. a link or image on another site, leaves the session alone).
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
let api: AppProcess;
const { call, login, relogin, cookie } = testHttp();

beforeAll(async () => {
  api = startApp(repoDir, 'api', appEnvFromProcess());
  await waitForApi(api, base, 300_000);
  await login('tenant');
}, 400_000);

afterAll(async () => {
  await api?.stop();
});

describe('security headers', () => {
  it.each([
    ['GET', '/healthz', 'anonymous'],
    ['GET', '/api/me', 'anonymous'],
    ['GET', '/api/me', 'tenant'],
    ['GET', '/api/no-such-route', 'tenant'],
    ['POST', '/api/tickets', 'tenant'],
    ['GET', '/auth/login', 'anonymous'],
    ['GET', '/', 'anonymous'],
    ['GET', '/tickets/42', 'anonymous'],
  ])('%s %s (%s) carries CSP, frame-ancestors, nosniff and Referrer-Policy', async (method, path, user) => {
    const r = await fetch(`${base}${path}`, {
      method,
      redirect: 'manual',
      headers: { cookie: user === 'anonymous' ? '' : cookie(user), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(name), `${name} on ${r.status}`).toBe(value);
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(r.headers.get('x-powered-by')).toBeNull();
  });
});

describe('logout', () => {
  it('GET /auth/logout answers 405 and keeps the session', async () => {
    await relogin('tenant');
    const r = await call('tenant', 'GET', '/auth/logout');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await call('tenant', 'GET', '/api/me')).status).toBe(200);
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['a cross-site fetch', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site fetch', { 'sec-fetch-site': 'same-site' }],
  ])('POST /auth/logout from %s is refused (403) and keeps the session', async (_what, headers) => {
    const r = await call('tenant', 'POST', '/auth/logout', undefined, headers);
    expect(r.status).toBe(403);
    expect((await call('tenant', 'GET', '/api/me')).status).toBe(200);
  });

  it("POST /auth/logout from the portal's origin ends the session and names the provider's end-session page", async () => {
    const r = await call('tenant', 'POST', '/auth/logout', undefined, {
      origin: new URL(base).origin,
      'sec-fetch-site': 'same-origin',
      accept: 'application/json',
    });
    expect(r.status).toBe(200);
    const end = new URL(r.body.redirectTo as string);
    expect(`${end.origin}${end.pathname}`).toBe(`${stackEnv('EDGEPORT_OIDC_ISSUER')}/session/end`);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/`);
    expect(end.searchParams.get('id_token_hint')).toBeTruthy();
    expect((await call('tenant', 'GET', '/api/me')).status).toBe(401);
  });
});
