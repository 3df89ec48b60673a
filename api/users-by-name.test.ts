import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../common/audit.ts';
import { startApp, waitForApi, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';
import type { User } from '../common/roles.ts';

/**
 * Users named by username or email, over HTTP against the real API and the local OpenID provider: the first
 * administrator from `EDGEPORT_BOOTSTRAP_ADMINS`, invitations by email applied at first sign-in, members added
 * by username, the user search and its permission checks, the admin CLI. Demo users this file signs in "for
 * the first time" have their user record deleted first and restored afterwards.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

let store: Store;
let api: AppProcess;
const { call, relogin: login } = testHttp();
/** User records of the demo users this file deletes or changes, restored afterwards. */
const saved = new Map<string, User | null>();
let domainId = '';
let vdcId = '';

async function forget(username: string): Promise<void> {
  const sub = demoUserByUsername(username)!.sub;
  if (!saved.has(sub)) saved.set(sub, await store.users.get(sub));
  await store.testing.collection('users').deleteOne({ _id: sub as never });
}

async function auditSince(seq: number, filter: Record<string, unknown>): Promise<AuditEntry[]> {
  return (await store.testing
    .collection(AUDIT_COLLECTION)
    .find({ ...filter, seq: { $gt: seq } })
    .sort({ seq: 1 })
    .toArray()) as unknown as AuditEntry[];
}
async function auditSeq(): Promise<number> {
  const last = await store.testing.collection(AUDIT_COLLECTION).find().sort({ seq: -1 }).limit(1).toArray();
  return (last[0]?.seq as number | undefined) ?? 0;
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  for (const u of ['finance', 'other', 'tenant', 'vdcadmin']) saved.set(demoUserByUsername(u)!.sub, await store.users.get(demoUserByUsername(u)!.sub));
  domainId = uniqueName('ubn');
  vdcId = uniqueName('ubn');
  await store.domains.create({ _id: domainId, name: domainId });
  await store.vdcs.create({
    _id: vdcId,
    name: vdcId,
    domainId,
    namespace: `vdc-${vdcId}`,
    namespaceStatus: 'requested',
    pool: 'local',
    quota: { cpu: 2, memoryGi: 4, pods: 10 },
  });
  api = startApp(repoDir, 'api', { ...appEnvFromProcess(), EDGEPORT_BOOTSTRAP_ADMINS: 'nobody-by-this-name, FINANCE@edgeport.local' });
  await waitForApi(api, base, 300_000);
  await Promise.all(['opsadmin', 'vdcadmin'].map(login));
}, 400_000);

afterAll(async () => {
  for (const doc of saved.values()) {
    if (doc) await store.users.upsert(doc).catch(() => undefined);
  }
  await store?.testing
    .collection('pendingbindings')
    .deleteMany({ scopeKey: `vdc:${vdcId}` })
    .catch(() => undefined);
  await api?.stop();
  await store?.close();
});

describe('users by name', () => {
  it('a bootstrap admin (by verified email) gets ops-admin at first sign-in, once, audited as the system', async () => {
    await forget('finance');
    const since = await auditSeq();
    await login('finance');
    const me = await call('finance', 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.bindings).toEqual([{ role: 'ops-admin', scope: { type: 'platform' } }]);
    const grants = await auditSince(since, { action: 'bootstrap-admin.grant', target: 'user:u-finance' });
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ actor: { sub: 'system' }, outcome: 'success', details: { role: 'ops-admin', matched: 'email' } });
    // Idempotent: a second sign-in adds nothing.
    await login('finance');
    expect((await store.users.get('u-finance'))?.bindings).toHaveLength(1);
    expect(await auditSince(since, { action: 'bootstrap-admin.grant', target: 'user:u-finance' })).toHaveLength(1);
  });

  it('a signed-in user without bindings gets their identity from /api/me and no permissions', async () => {
    await forget('tenant');
    await login('tenant');
    const me = await call('tenant', 'GET', '/api/me');
    expect(me).toMatchObject({ status: 200, body: { sub: 'u-tenant', username: 'tenant', email: 'tenant@edgeport.local', bindings: [], permissions: [] } });
    expect((await call('tenant', 'GET', '/api/vdcs')).status).toBe(403);
  });

  it('an unknown email becomes a pending member, listed as pending, applied at first sign-in and audited', async () => {
    await forget('other');
    const since = await auditSeq();
    const invited = await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'Other@Edgeport.local', roles: ['vdc-user'] });
    expect(invited).toMatchObject({ status: 201, body: { sub: '', email: 'other@edgeport.local', roles: ['vdc-user'], pending: true } });
    const again = await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'other@edgeport.local', roles: ['vdc-admin'] });
    expect(again).toMatchObject({ status: 200, body: { roles: ['vdc-admin'], pending: true } });
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}/members`)).body.items).toEqual([
      { sub: '', username: '', name: '', email: 'other@edgeport.local', roles: ['vdc-admin'], pending: true },
    ]);
    expect(await auditSince(since, { action: 'binding.invite', target: 'email:other@edgeport.local' })).toHaveLength(2);

    await login('other');
    const me = await call('other', 'GET', '/api/me');
    expect(me.body.bindings).toEqual([{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}/members`)).body.items).toEqual([
      expect.objectContaining({ sub: 'u-other', username: 'other', roles: ['vdc-admin'] }),
    ]);
    expect(await store.pendingBindings.forEmail('other@edgeport.local')).toEqual([]);
    const applied = await auditSince(since, { action: 'binding.grant', target: 'user:u-other' });
    expect(applied).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ sub: 'system' }),
        details: expect.objectContaining({ role: 'vdc-admin', source: 'invite', invitedBy: expect.objectContaining({ sub: 'u-opsadmin' }) }),
      }),
    ]);
  });

  it('adds a member by username; refuses unknown usernames and bad input naming the field', async () => {
    const added = await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'VDCADMIN', roles: ['vdc-user'] });
    // The binding's own data only: no name or email of the user.
    expect(added).toEqual({ status: 201, body: { vdcId, sub: 'u-vdcadmin', roles: ['vdc-user'] } });
    expect((await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'vdcadmin', roles: ['vdc-user'] })).status).toBe(200);

    const unknown = await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'no-such-user', roles: ['vdc-user'] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ field: 'user', message: expect.stringContaining('username') }]);
    const blank = await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'a b', roles: ['vdc-user'] });
    expect(blank.status).toBe(400);
    expect(blank.body.errors.map((e: { field: string }) => e.field)).toEqual(['user']);
    const badRole = await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'vdcadmin', roles: ['ops-admin'] });
    expect(badRole.status).toBe(400);
    expect(badRole.body.errors.map((e: { field: string }) => e.field)).toEqual(['roles[0]']);
    expect((await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'x@example.com', roles: ['vdc-user'], extra: 1 })).body.errors).toEqual([
      { field: 'extra', message: 'unknown field' },
    ]);

    // Names resolve only for callers who manage the VDC's members; everyone else gets the same answer for any name.
    const known = await call('vdcadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'tenant', roles: ['vdc-user'] });
    const unknownToo = await call('vdcadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'no-such-user', roles: ['vdc-user'] });
    expect(known.status).toBe(403);
    expect(unknownToo).toEqual(known);
    const hidden = await call('vdcadmin', 'POST', '/api/vdcs/no-such-vdc/members', { user: 'tenant', roles: ['vdc-user'] });
    expect(hidden.status).toBe(404);
  });

  it('searches users who signed in, case-insensitively and literally, only for member managers', async () => {
    const r = await call('opsadmin', 'GET', '/api/users/search?q=FIN');
    expect(r.status).toBe(200);
    expect(r.body.items).toContainEqual({ sub: 'u-finance', username: 'finance', name: 'Fiona Finance', email: 'finance@edgeport.local' });
    expect(r.body.items.length).toBeLessThanOrEqual(20);
    expect((await call('opsadmin', 'GET', '/api/users/search?q=edgeport.local')).body.items.length).toBeGreaterThanOrEqual(4);
    expect((await call('opsadmin', 'GET', `/api/users/search?q=${encodeURIComponent('.*')}`)).body.items).toEqual([]);
    const missing = await call('opsadmin', 'GET', '/api/users/search');
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(['q']);

    // vdcadmin is a VDC admin of `demo` (and a member of this file's VDC, not its admin).
    // A VDC admin does not see every user: no listing by fragment, a whole username or email gives username and sub only.
    expect((await call('vdcadmin', 'GET', '/api/users/search?vdc=demo&q=ten')).body.items).toEqual([]);
    expect((await call('vdcadmin', 'GET', '/api/users/search?vdc=demo&q=edgeport.local')).body.items).toEqual([]);
    expect((await call('vdcadmin', 'GET', '/api/users/search?vdc=demo&q=TENANT')).body.items).toEqual([{ sub: 'u-tenant', username: 'tenant' }]);
    expect((await call('vdcadmin', 'GET', '/api/users/search?vdc=demo&q=tenant%40edgeport.local')).body.items).toEqual([
      { sub: 'u-tenant', username: 'tenant' },
    ]);
    expect((await call('vdcadmin', 'GET', '/api/users/search?q=ten')).status).toBe(403);
    expect((await call('vdcadmin', 'GET', `/api/users/search?vdc=${vdcId}&q=ten`)).status).toBe(403);
    expect((await call('vdcadmin', 'GET', '/api/users/search?vdc=no-such-vdc&q=ten')).status).toBe(404);
    await login('tenant');
    expect((await call('tenant', 'GET', '/api/users/search?vdc=demo&q=ten')).status).toBe(404);
  });

  it('a VDC admin gets one answer for an unknown sub and a user who is not a member, and cannot drop the last vdc-admin', async () => {
    // vdcadmin is the only vdc-admin of `demo`; u-other exists and is not a member there.
    const same = (r: { status: number; body: unknown }, sub: string) => ({ status: r.status, body: JSON.parse(JSON.stringify(r.body).replaceAll(sub, 'SUB')) });
    for (const [method, body] of [
      ['PUT', { roles: ['vdc-user'] }],
      ['DELETE', undefined],
    ] as const) {
      const existing = await call('vdcadmin', method, '/api/vdcs/demo/members/u-other', body);
      const unknown = await call('vdcadmin', method, '/api/vdcs/demo/members/u-no-such-user', body);
      expect(existing.status, method).toBe(404);
      expect(same(unknown, 'u-no-such-user'), method).toEqual(same(existing, 'u-other'));
    }
    expect(await store.users.bindings('u-other')).not.toContainEqual(expect.objectContaining({ scope: { type: 'vdc', vdcId: 'demo' } }));

    for (const [method, body] of [
      ['PUT', { roles: ['vdc-user'] }],
      ['PUT', { roles: [] }],
      ['DELETE', undefined],
    ] as const) {
      const last = await call('vdcadmin', method, '/api/vdcs/demo/members/u-vdcadmin', body);
      expect(last.status, method).toBe(409);
      expect(last.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(last.body.detail).toMatch(/vdc-admin binding of u-vdcadmin is the last vdc-admin binding of VDC demo/);
    }
    expect(await store.users.bindings('u-vdcadmin')).toContainEqual({ role: 'vdc-admin', scope: { type: 'vdc', vdcId: 'demo' } });
  });

  it('grants platform bindings by name (pending for an unknown email) and withdraws VDC invitations', async () => {
    const email = `${uniqueName('inv')}@example.com`;
    const pending = await call('opsadmin', 'POST', '/api/bindings', { user: email, role: 'finance', scope: { type: 'platform' } });
    expect(pending).toMatchObject({
      status: 202,
      body: { pending: { email, role: 'finance', scope: { type: 'platform' }, invitedBy: { sub: 'u-opsadmin' } } },
    });
    expect((await call('opsadmin', 'GET', '/api/users')).body.pending).toContainEqual(expect.objectContaining({ email, role: 'finance' }));
    const byName = await call('opsadmin', 'POST', '/api/bindings', { user: 'tenant', role: 'vdc-user', scope: { type: 'vdc', vdcId } });
    expect(byName).toMatchObject({
      status: 200,
      body: { user: { sub: 'u-tenant', bindings: expect.arrayContaining([{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]) } },
    });
    const badScope = await call('opsadmin', 'POST', '/api/bindings', { user: 'tenant', role: 'ops-admin', scope: { type: 'vdc', vdcId } });
    expect(badScope.body.errors.map((e: { field: string }) => e.field)).toEqual(['scope.type']);
    await store.pendingBindings.removeInScope(email, { type: 'platform' });

    const vdcInvite = `${uniqueName('inv')}@example.com`;
    expect((await call('opsadmin', 'POST', `/api/vdcs/${vdcId}/members`, { user: vdcInvite, roles: ['vdc-user'] })).status).toBe(201);
    expect((await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}/pending-members/${encodeURIComponent(vdcInvite)}`)).status).toBe(204);
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}/members`)).body.items.some((m: { email: string }) => m.email === vdcInvite)).toBe(false);
  });

  it('admin grant CLI: ops-admin for a known user, pending for a new email, refuses an unknown username', async () => {
    const env = { ...process.env, EDGEPORT_MONGO_URL: stackEnv('EDGEPORT_MONGO_URL') };
    const cli = (user: string) =>
      run('npx', ['tsx', 'api/cli.ts', 'admin', 'grant', '--user', user], { cwd: repoDir, env }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const since = await auditSeq();
    const known = await cli('opsadmin');
    expect(known.code).toBe(0);
    expect(JSON.parse(known.out)).toMatchObject({ outcome: 'already', sub: 'u-opsadmin' });
    const email = `${uniqueName('cli')}@example.com`;
    const invited = await cli(email);
    expect(JSON.parse(invited.out)).toMatchObject({ outcome: 'pending', email });
    expect(await auditSince(since, { action: 'binding.invite', target: `email:${email}` })).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ sub: 'system:cli' }) }),
    ]);
    await store.pendingBindings.removeInScope(email, { type: 'platform' });
    const unknown = await cli('no-such-user');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('username');
  }, 120_000);
});
