import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';

/**
 * Client certificate as a second factor (`EDGEPORT_MTLS_MODE=required`), with the api as a real process.
 * The test plays the TLS-terminating proxy on 127.0.0.1: it sends the headers nginx would set.
 */
let api: TestApi;
/** Same settings, but 127.0.0.1 is no trusted proxy there: its certificate headers must be ignored. */
let untrusted: TestApi;
let store: Store;
const cookies: Record<string, string> = {};
const subject = `CN=${uniqueName('finance')},OU=Finance,O=Edgeport Test`;
const finance = demoUserByUsername('finance')!;

const cert = (s: string | null, verify = 'SUCCESS'): Record<string, string> => (s === null ? {} : { 'x-ssl-client-s-dn': s, 'x-ssl-client-verify': verify });

async function call(
  method: string,
  path: string,
  opts: { user?: string; token?: string; headers?: Record<string, string>; body?: unknown; via?: TestApi } = {},
) {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.user) headers.cookie = cookies[opts.user] ?? '';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${(opts.via ?? api).base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const bind = (user: string, sub: string, s: string | null) => call('PUT', `/api/users/${sub}/cert-subject`, { user, body: { subject: s } });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await store.users.setCertSubject(finance.sub, null);
  [api, untrusted] = await Promise.all([
    startTestApi({ EDGEPORT_MTLS_MODE: 'required' }),
    startTestApi({ EDGEPORT_MTLS_MODE: 'required', EDGEPORT_TRUSTED_PROXIES: '192.0.2.250' }, { port: 'free' }),
  ]);
  for (const u of ['finance', 'opsadmin', 'tenant']) cookies[u] = await loginAs(api.base, u, demoUserByUsername(u)!.password);
}, 180_000);

afterAll(async () => {
  if (store) await store.users.setCertSubject(finance.sub, null);
  await Promise.all([api?.stop(), untrusted?.stop()]);
  await store?.close();
});

describe('client certificate bound to a user', () => {
  it('binding a subject needs role:write on the platform, and a known user', async () => {
    expect((await bind('tenant', finance.sub, subject)).status).toBe(403);
    expect((await bind('opsadmin', uniqueName('nobody'), subject)).status).toBe(404);
    const bad = await bind('opsadmin', finance.sub, 'CN=x\u0000');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('subject');
    // Without a bound subject, the session works with or without a certificate.
    expect((await call('GET', '/api/me', { user: 'finance' })).status).toBe(200);

    const r = await bind('opsadmin', finance.sub, subject);
    expect(r).toMatchObject({ status: 200, body: { sub: finance.sub, subject } });
    expect(await store.users.certSubject(finance.sub)).toBe(subject);
    const audit = await store.testing
      .collection('audit_entries')
      .find({ target: `user:${finance.sub}`, action: 'user.cert-subject.bind' })
      .sort({ seq: -1 })
      .limit(1)
      .toArray();
    expect(audit[0]).toMatchObject({ actor: { sub: 'u-opsadmin' }, details: { subject } });
  });

  it('a session of that user passes only with the bound subject vouched for by a trusted proxy', async () => {
    expect((await call('GET', '/api/me', { user: 'finance', headers: cert(subject) })).status).toBe(200);

    const missing = await call('GET', '/api/me', { user: 'finance' });
    expect(missing).toMatchObject({ status: 401, body: { title: 'Unauthorized', detail: expect.stringMatching(/requires its client certificate/) } });
    const wrong = await call('GET', '/api/me', { user: 'finance', headers: cert('CN=mallory,O=Edgeport Test') });
    expect(wrong).toMatchObject({ status: 401, body: { detail: expect.stringMatching(/not the one bound/) } });
    expect((await call('GET', '/api/me', { user: 'finance', headers: cert(subject, 'FAILED:certificate has expired') })).status).toBe(401);
    expect((await call('GET', '/api/me', { user: 'finance', headers: { 'x-ssl-client-s-dn': subject } })).status).toBe(401);

    // Users without a bound subject are unaffected.
    expect((await call('GET', '/api/me', { user: 'opsadmin' })).status).toBe(200);
  });

  it('ignores certificate headers from an address that is not a trusted proxy', async () => {
    const r = await call('GET', '/api/me', { user: 'finance', headers: cert(subject), via: untrusted });
    expect(r).toMatchObject({ status: 401, body: { detail: expect.stringMatching(/requires its client certificate/) } });
    expect((await call('GET', '/api/me', { user: 'opsadmin', via: untrusted })).status).toBe(200);
  });

  it('an API token made in a certificate-verified session works without the certificate; unbinding lifts the check', async () => {
    const created = await call('POST', '/api/tokens', {
      user: 'finance',
      headers: cert(subject),
      body: { name: uniqueName('cli'), permissions: ['report:read'], expiresInDays: 1 },
    });
    expect(created.status).toBe(201);
    expect((await call('GET', '/api/me', { token: created.body.token })).status).toBe(200);

    expect((await bind('opsadmin', finance.sub, null)).status).toBe(200);
    expect(await store.users.certSubject(finance.sub)).toBeNull();
    expect((await call('GET', '/api/me', { user: 'finance' })).status).toBe(200);
  });
});
