import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN_PATTERN } from '../common/identity.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';

/** API tokens over HTTP, with the api as a real process against the real stack (OIDC login, MongoDB). */
let api: TestApi;
let store: Store;
const cookies: Record<string, string> = {};

type Res = { status: number; headers: Headers; body: any };

async function call(method: string, path: string, opts: { user?: string; token?: string; body?: unknown; authorization?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.user) headers.cookie = cookies[opts.user] ?? '';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.authorization) headers.authorization = opts.authorization;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api.base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const create = (user: string, permissions: string[], expiresInDays = 7) =>
  call('POST', '/api/tokens', { user, body: { name: uniqueName('tok'), permissions, expiresInDays } });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  api = await startTestApi();
  for (const u of ['tenant', 'other']) cookies[u] = await loginAs(api.base, u, demoUserByUsername(u)!.password);
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await store?.close();
});

describe('API tokens', () => {
  it('a token acts as its user within its permissions only: allowed inside the subset, 403 outside it', async () => {
    const created = await create('tenant', ['vdc:read']);
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const token = created.body.token as string;
    expect(token).toMatch(API_TOKEN_PATTERN);
    expect(created.body).toMatchObject({ permissions: ['vdc:read'], revoked: false, lastUsedAt: null, prefix: token.slice(0, 9) });

    const vdcs = await call('GET', '/api/vdcs', { token });
    expect(vdcs.status).toBe(200);
    expect(vdcs.body.items.map((v: { id: string }) => v.id)).toContain('demo');
    const me = await call('GET', '/api/me', { token });
    expect(me.body).toMatchObject({ sub: 'u-tenant', permissions: ['vdc:read'] });

    // The tenant holds ticket:create on demo through the session, but not through this token.
    expect((await call('GET', '/api/me', { user: 'tenant' })).body.permissions).toContain('ticket:create');
    const outside = await call('POST', '/api/tickets', { token, body: { type: 'quota-change', vdcId: 'demo', quota: { cpu: 5 } } });
    expect(outside.status).toBe(403);
    expect(outside.body).toMatchObject({ status: 403, detail: expect.stringMatching(/ticket:create/) });

    // The token is shown once: the list has no token, only the prefix.
    const list = await call('GET', '/api/tokens', { user: 'tenant' });
    const listed = list.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(listed).toMatchObject({ name: created.body.name, prefix: token.slice(0, 9), permissions: ['vdc:read'], revoked: false });
    expect(listed.token).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(token);
  });

  it('a token keeps the reach it was made with: a later role binding of its user does not widen it', async () => {
    const vdcId = uniqueName('tokpromo');
    await seedVdc(store, createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG')), {
      id: vdcId,
      name: 'Promotion VDC',
      domainId: 'tok-domain',
      quota: { cpu: 1, memoryGi: 1, pods: 5 },
    });
    const created = await create('other', ['vdc:read']);
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    const before = (await call('GET', '/api/vdcs', { token })).body.items.map((v: { id: string }) => v.id);
    expect(before).toContain('other');
    expect(before).not.toContain(vdcId);

    await grant(store, demoUserByUsername('other')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
    const session = (await call('GET', '/api/vdcs', { user: 'other' })).body.items.map((v: { id: string }) => v.id);
    expect(session).toContain(vdcId);
    const after = await call('GET', '/api/vdcs', { token });
    expect(after.status).toBe(200);
    expect(after.body.items.map((v: { id: string }) => v.id)).toEqual(before);
    expect((await call('GET', `/api/vdcs/${vdcId}`, { token })).status).toBe(404);
    // A token made now reaches the new VDC too.
    const fresh = (await create('other', ['vdc:read'])).body.token as string;
    expect((await call('GET', `/api/vdcs/${vdcId}`, { token: fresh })).status).toBe(200);
  });

  it('stores only the SHA-256 of the token, keeps it out of the audit log and the api output, and audits create and revoke', async () => {
    const created = await create('tenant', ['vdc:read', 'ticket:read']);
    const { id, token } = created.body as { id: string; token: string };
    expect((await call('GET', '/api/me', { token })).status).toBe(200);
    const doc = await store.testing.collection('apitokens').findOne({ _id: id as never });
    expect(doc?.hash).toBe(createHash('sha256').update(token).digest('hex'));
    const secretPart = token.slice(9);
    expect(JSON.stringify(doc)).not.toContain(secretPart);
    expect(await store.testing.collection('apitokens').countDocuments({ $or: [{ token }, { hash: token }] })).toBe(0);

    expect((await call('DELETE', `/api/tokens/${id}`, { user: 'tenant' })).status).toBe(204);
    const audit = await store.testing
      .collection('audit_entries')
      .find({ target: `apitoken:${id}` })
      .sort({ seq: 1 })
      .toArray();
    expect(audit.map((e) => e.action)).toEqual(['token.create', 'token.revoke']);
    expect(audit[0]).toMatchObject({ actor: { sub: 'u-tenant' }, outcome: 'success', details: { permissions: ['vdc:read', 'ticket:read'] } });
    expect(JSON.stringify(audit)).not.toContain(secretPart);
    expect(api.process.output()).not.toContain(secretPart);
  });

  it('records lastUsedAt on use, at most once a minute', async () => {
    const { id, token } = (await create('tenant', ['vdc:read'])).body as { id: string; token: string };
    const before = Date.now();
    expect((await call('GET', '/api/vdcs', { token })).status).toBe(200);
    const first = (await call('GET', '/api/tokens', { user: 'tenant' })).body.items.find((t: { id: string }) => t.id === id);
    expect(Date.parse(first.lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect((await call('GET', '/api/vdcs', { token })).status).toBe(200);
    const second = (await call('GET', '/api/tokens', { user: 'tenant' })).body.items.find((t: { id: string }) => t.id === id);
    expect(second.lastUsedAt).toBe(first.lastUsedAt);
  });

  it('refuses revoked, expired, unknown and malformed tokens with a 401 problem, never falling back to the session', async () => {
    const revoked = (await create('tenant', ['vdc:read'])).body as { id: string; token: string };
    expect((await call('DELETE', `/api/tokens/${revoked.id}`, { user: 'tenant' })).status).toBe(204);
    expect((await call('DELETE', `/api/tokens/${revoked.id}`, { user: 'tenant' })).status).toBe(204);
    const r1 = await call('GET', '/api/me', { token: revoked.token });
    expect(r1.status).toBe(401);
    expect(r1.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r1.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(r1.body).toMatchObject({ status: 401, detail: expect.stringMatching(/revoked/) });
    const listed = (await call('GET', '/api/tokens', { user: 'tenant' })).body.items.find((t: { id: string }) => t.id === revoked.id);
    expect(listed.revoked).toBe(true);

    const expired = (await create('tenant', ['vdc:read'], 1)).body as { id: string; token: string };
    expect((await call('GET', '/api/me', { token: expired.token })).status).toBe(200);
    await store.testing.collection('apitokens').updateOne({ _id: expired.id as never }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const r2 = await call('GET', '/api/me', { token: expired.token });
    expect(r2).toMatchObject({ status: 401, body: { detail: expect.stringMatching(/expired/) } });

    const unknown = `ep_${'A'.repeat(43)}`;
    expect((await call('GET', '/api/me', { token: unknown })).status).toBe(401);
    expect((await call('GET', '/api/me', { authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await call('GET', '/api/me', { authorization: 'Bearer' })).status).toBe(401);
    // A bad token with a valid session cookie is still a 401, not the session's user.
    expect((await call('GET', '/api/me', { user: 'tenant', token: unknown })).status).toBe(401);
    // Basic credentials (e.g. of a proxy) are not ours: the request is judged by its session as usual.
    expect((await call('GET', '/api/me', { user: 'tenant', authorization: 'Basic dTpw' })).status).toBe(200);
    expect((await call('GET', '/api/me')).status).toBe(401);
  });

  it('refuses permissions the caller does not hold (400 naming the field) and other bad bodies', async () => {
    const notHeld = await create('tenant', ['vdc:read', 'pool:write']);
    expect(notHeld.status).toBe(400);
    expect(notHeld.body.errors).toEqual([{ field: 'permissions[1]', message: expect.stringMatching(/do not hold pool:write/) }]);
    // ticket:decide is held by vdc-admins, not by this vdc-user.
    expect((await create('tenant', ['ticket:decide'])).body.errors[0].field).toBe('permissions[0]');
    expect((await create('tenant', ['bogus:perm'])).body.errors).toEqual([{ field: 'permissions[0]', message: expect.stringMatching(/unknown permission/) }]);
    for (const [body, field] of [
      [{ name: 'x', permissions: ['vdc:read'], expiresInDays: 0 }, 'expiresInDays'],
      [{ name: 'x', permissions: ['vdc:read'], expiresInDays: 366 }, 'expiresInDays'],
      [{ name: 'x', permissions: [], expiresInDays: 1 }, 'permissions'],
      [{ name: '', permissions: ['vdc:read'], expiresInDays: 1 }, 'name'],
      [{ name: 'x', permissions: ['vdc:read'], expiresInDays: 1, userSub: 'u-opsadmin' }, 'userSub'],
    ] as const) {
      const r = await call('POST', '/api/tokens', { user: 'tenant', body });
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await call('POST', '/api/tokens', { body: { name: 'x', permissions: ['vdc:read'], expiresInDays: 1 } })).status).toBe(401);
  });

  it('a token cannot mint tokens, other users cannot see or revoke it, and a session plus a token is refused', async () => {
    const { id, token } = (await create('tenant', ['vdc:read'])).body as { id: string; token: string };
    const mint = await call('POST', '/api/tokens', { token, body: { name: 'x', permissions: ['vdc:read'], expiresInDays: 365 } });
    expect(mint.status).toBe(403);
    expect((await call('GET', '/api/tokens', { user: 'other' })).body.items.map((t: { id: string }) => t.id)).not.toContain(id);
    expect((await call('DELETE', `/api/tokens/${id}`, { user: 'other' })).status).toBe(404);
    expect((await call('DELETE', '/api/tokens/not-a-uuid', { user: 'other' })).status).toBe(404);
    expect((await call('GET', '/api/me', { token })).status).toBe(200);
    expect((await call('GET', '/api/me', { user: 'other', token })).status).toBe(400);
    // A token may revoke itself (e.g. a CLI logging out).
    expect((await call('DELETE', `/api/tokens/${id}`, { token })).status).toBe(204);
    expect((await call('GET', '/api/me', { token })).status).toBe(401);
  });
});
