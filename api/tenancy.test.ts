import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { AuditEntry } from '../common/audit.ts';
import type { RoleBinding } from '../common/roles.ts';
import type { TicketView } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp, until } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * The tenancy admin API over HTTP (domains, VDCs, members and role bindings, custom roles), with the api
 * and worker as real processes against the real stack. Role bindings are read fresh on every request, so
 * a change made through the API takes effect on the next call of the user concerned.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const quota = { cpu: 2, memoryGi: 4, pods: 10 };
/** What a VDC created with `quota` holds: storage is quota, 100 GiB unless given (DEFAULT_STORAGE_QUOTA_GI). */
const createdQuota = { ...quota, storageGi: 100 };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login, untilTicket: ticketAs } = testHttp();
/** Bindings of the demo users this file changes, restored afterwards (test files run one at a time). */
const saved = new Map<string, RoleBinding[]>();

const bindingsOf = async (sub: string): Promise<RoleBinding[]> => (await store.users.get(sub))?.bindings ?? [];

async function setBindings(sub: string, bindings: RoleBinding[]): Promise<void> {
  const u = await store.users.get(sub);
  if (!u) throw new Error(`no user ${sub}`);
  await store.users.upsert({ ...u, bindings });
}

/** Audit entries of one action on one target, written since `since` (seq). */
async function audited(action: string, target: string, sinceSeq: number): Promise<AuditEntry[]> {
  return (await store.testing
    .collection(AUDIT_COLLECTION)
    .find({ action, target, seq: { $gt: sinceSeq } })
    .sort({ seq: 1 })
    .toArray()) as unknown as AuditEntry[];
}
async function auditSeq(): Promise<number> {
  const last = await store.testing.collection(AUDIT_COLLECTION).find().sort({ seq: -1 }).limit(1).toArray();
  return (last[0]?.seq as number | undefined) ?? 0;
}

async function newDomain(): Promise<string> {
  const id = uniqueName('dom');
  expect((await call('opsadmin', 'POST', '/api/domains', { id, name: `Domain ${id}` })).status).toBe(201);
  return id;
}
async function newVdc(domainId: string): Promise<string> {
  const id = uniqueName('vdc');
  const r = await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, { id, name: `VDC ${id}`, pools: [{ pool: 'local', quota }] });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return id;
}

/**
 * Deletes a VDC as `who`: the API answers 202 with the VDC `deleting`, and the worker's lifecycle workflow removes
 * its namespaces, bindings and record; waits until the VDC is gone.
 */
async function deleteVdc(vdcId: string, who = 'opsadmin'): Promise<void> {
  const r = await call(who, 'DELETE', `/api/vdcs/${vdcId}`);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  expect(r.body.provisioning.state).toBe('deleting');
  await until(async () => (await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).status, {
    what: `VDC ${vdcId} deleted`,
    ok: (s) => s === 404,
    timeout: 120_000,
    interval: 300,
  });
}

const untilTicket = (id: string, pred: (t: TicketView) => boolean): Promise<TicketView> => ticketAs('opsadmin', id, pred);

/** Waits until the VDC's lifecycle workflow made it ready on its pool (a quota change is refused at preflight before). */
async function untilReady(vdcId: string): Promise<void> {
  await until(async () => (await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body, {
    what: `VDC ${vdcId} ready`,
    ok: (v) => v?.provisioning?.state === 'ready',
    timeout: 90_000,
    interval: 300,
  });
}

/** Opens a quota increase ticket as the ops admin (once the VDC is ready) and waits until it awaits approval. */
async function openTicket(vdcId: string): Promise<string> {
  await untilReady(vdcId);
  const r = await call('opsadmin', 'POST', '/api/tickets', { type: 'quota-change', vdcId, quota: { cpu: 3 } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await untilTicket(r.body.id, (t) => t.status === 'pending_approval');
  return r.body.id as string;
}
async function cancelTicket(id: string): Promise<void> {
  expect((await call('opsadmin', 'POST', `/api/tickets/${id}/cancel`, { reason: 'test done' })).status).toBe(200);
  await untilTicket(id, (t) => t.status === 'cancelled');
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  for (const sub of ['u-other', 'u-finance', 'u-tenant']) saved.set(sub, await bindingsOf(sub));
  [worker, api] = await Promise.all([
    (async () => {
      const p = startApp(repoDir, 'worker', env);
      await waitForWorker(p);
      return p;
    })(),
    (async () => {
      const p = startApp(repoDir, 'api', env);
      await waitForApi(p, base);
      return p;
    })(),
  ]);
  await login('opsadmin', 'other', 'finance', 'tenant');
}, 180_000);

afterAll(async () => {
  for (const [sub, bindings] of saved) await setBindings(sub, bindings).catch(() => undefined);
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('tenancy admin API over HTTP', () => {
  it('ops admin creates, reads and deletes domains, VDCs and members, each binding change audited', async () => {
    const since = await auditSeq();
    const domainId = uniqueName('dom');
    const created = await call('opsadmin', 'POST', '/api/domains', { id: domainId, name: 'Research' });
    expect(created).toMatchObject({ status: 201, body: { id: domainId, name: 'Research', vdcCount: 0 }, location: `/api/domains/${domainId}` });
    expect((await call('opsadmin', 'POST', '/api/domains', { id: domainId, name: 'Again' })).status).toBe(409);
    expect((await call('opsadmin', 'GET', '/api/domains')).body.items).toContainEqual({ id: domainId, name: 'Research', vdcCount: 0 });

    const vdcId = uniqueName('vdc');
    const vdc = await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, { id: vdcId, name: 'Lab', pools: [{ pool: 'local', quota }] });
    expect(vdc.status).toBe(201);
    expect(vdc.location).toBe(`/api/vdcs/${vdcId}`);
    expect(vdc.body).toEqual({
      id: vdcId,
      name: 'Lab',
      domainId,
      namespace: `vdc-${vdcId}`,
      namespaceStatus: 'requested',
      pool: 'local',
      quota: createdQuota,
      pools: [{ pool: 'local', namespace: `vdc-${vdcId}`, quota: createdQuota }],
      provisioning: { state: 'provisioning', at: expect.any(String) },
      spaces: [],
      membersCount: 0,
      labels: {},
    });
    expect((await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, { id: vdcId, name: 'Lab', pools: [{ pool: 'local', quota }] })).status).toBe(409);
    expect((await call('opsadmin', 'GET', `/api/domains/${domainId}`)).body).toEqual({
      id: domainId,
      name: 'Research',
      vdcCount: 1,
      vdcs: [{ id: vdcId, name: 'Lab' }],
    });
    expect((await call('opsadmin', 'GET', '/api/vdcs')).body.items.map((v: { id: string }) => v.id)).toContain(vdcId);

    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}`)).status).toBe(404);
    const put = await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: ['vdc-user'] });
    // The answer is the binding's own data: no name or email of the user.
    expect(put).toEqual({ status: 200, body: { vdcId, sub: 'u-tenant', roles: ['vdc-user'] } });
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}/members`)).body.items).toEqual([
      expect.objectContaining({ sub: 'u-tenant', roles: ['vdc-user'] }),
    ]);
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}`)).body).toMatchObject({ id: vdcId, membersCount: 1, quota: createdQuota });
    // Replacing: vdc-user becomes vdc-admin; the tenant's other bindings stay.
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: ['vdc-admin'] })).body.roles).toEqual(['vdc-admin']);
    expect(await bindingsOf('u-tenant')).toEqual([...saved.get('u-tenant')!, { role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);

    const refused = await call('opsadmin', 'DELETE', `/api/domains/${domainId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(new RegExp(`holds 1 VDC \\(${vdcId}\\)`));

    // The VDC's only vdc-admin binding can be neither removed nor downgraded, not even by an operations admin.
    const last = await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`);
    expect(last.status).toBe(409);
    expect(last.body.detail).toMatch(new RegExp(`vdc-admin binding of u-tenant is the last vdc-admin binding of VDC ${vdcId}`));
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: ['vdc-user'] })).status).toBe(409);
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: [] })).status).toBe(409);
    expect(await bindingsOf('u-tenant')).toEqual([...saved.get('u-tenant')!, { role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
    // With a second administrator it can go.
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-other`, { roles: ['vdc-admin'] })).status).toBe(200);
    expect((await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`)).status).toBe(204);
    expect((await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`)).status).toBe(404);
    const lastLeft = await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}/members/u-other`);
    expect(lastLeft.status).toBe(409);
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcId}`)).status).toBe(404);
    expect(await bindingsOf('u-tenant')).toEqual(saved.get('u-tenant'));

    const grants = await audited('binding.grant', 'user:u-tenant', since);
    expect(grants.map((e) => [e.outcome, e.actor?.sub, e.details])).toEqual([
      ['success', 'u-opsadmin', { role: 'vdc-user', scope: { type: 'vdc', vdcId } }],
      ['success', 'u-opsadmin', { role: 'vdc-admin', scope: { type: 'vdc', vdcId } }],
    ]);
    const revokes = await audited('binding.revoke', 'user:u-tenant', since);
    expect(revokes.map((e) => e.details)).toEqual([
      { role: 'vdc-user', scope: { type: 'vdc', vdcId } },
      { role: 'vdc-admin', scope: { type: 'vdc', vdcId } },
    ]);

    await deleteVdc(vdcId);
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).status).toBe(404);
    expect((await call('opsadmin', 'DELETE', `/api/domains/${domainId}`)).status).toBe(204);
    expect((await call('opsadmin', 'GET', `/api/domains/${domainId}`)).status).toBe(404);
    expect((await call('opsadmin', 'DELETE', `/api/domains/${domainId}`)).status).toBe(404);
    expect((await audited('vdc.delete', `vdc:${vdcId}`, since)).length).toBe(1);
    expect((await audited('domain.delete', `domain:${domainId}`, since)).length).toBe(1);
  });

  it('a domain admin sees and manages only its own domain; another domain is 404', async () => {
    const [mine, theirs] = [await newDomain(), await newDomain()];
    const [myVdc, theirVdc] = [await newVdc(mine), await newVdc(theirs)];
    const since = await auditSeq();
    const users = await call('opsadmin', 'GET', '/api/users');
    expect(users.status).toBe(200);
    const current = users.body.items.find((u: { sub: string }) => u.sub === 'u-other').bindings as RoleBinding[];
    const put = await call('opsadmin', 'PUT', '/api/users/u-other/bindings', {
      bindings: [...current, { role: 'domain-admin', scope: { type: 'domain', domainId: mine } }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await audited('binding.grant', 'user:u-other', since)).map((e) => e.details)).toEqual([
      { role: 'domain-admin', scope: { type: 'domain', domainId: mine } },
    ]);

    const domains = (await call('other', 'GET', '/api/domains')).body.items.map((d: { id: string }) => d.id);
    expect(domains).toContain(mine);
    expect(domains).not.toContain(theirs);
    expect((await call('other', 'GET', `/api/domains/${mine}`)).body.vdcs).toEqual([{ id: myVdc, name: `VDC ${myVdc}` }]);
    expect((await call('other', 'GET', `/api/domains/${theirs}`)).status).toBe(404);
    expect((await call('other', 'GET', `/api/vdcs/${theirVdc}`)).status).toBe(404);
    expect((await call('other', 'GET', `/api/vdcs/${theirVdc}/members`)).status).toBe(404);
    expect((await call('other', 'DELETE', `/api/vdcs/${theirVdc}`)).status).toBe(404);
    expect((await call('other', 'PUT', `/api/vdcs/${theirVdc}/members/u-tenant`, { roles: ['vdc-user'] })).status).toBe(404);
    expect((await call('other', 'POST', `/api/domains/${theirs}/vdcs`, { id: uniqueName('vdc'), name: 'x', pools: [{ pool: 'local', quota }] })).status).toBe(
      404,
    );

    expect((await call('other', 'GET', `/api/vdcs/${myVdc}`)).status).toBe(200);
    const extra = uniqueName('vdc');
    expect((await call('other', 'POST', `/api/domains/${mine}/vdcs`, { id: extra, name: 'Extra', pools: [{ pool: 'local', quota }] })).status).toBe(201);
    // A domain admin does not see every user: it adds members by username, and a PUT by sub only changes a member.
    expect((await call('other', 'PUT', `/api/vdcs/${myVdc}/members/u-tenant`, { roles: ['vdc-admin'] })).status).toBe(404);
    expect((await call('other', 'POST', `/api/vdcs/${myVdc}/members`, { user: 'tenant', roles: ['vdc-user'] })).status).toBe(201);
    expect((await call('other', 'PUT', `/api/vdcs/${myVdc}/members/u-tenant`, { roles: ['vdc-user', 'vdc-admin'] })).status).toBe(200);
    expect((await call('other', 'PUT', `/api/vdcs/${myVdc}/members/u-tenant`, { roles: ['vdc-user'] })).status).toBe(409);
    expect((await call('other', 'DELETE', `/api/vdcs/${myVdc}/members/u-tenant`)).status).toBe(409);
    await deleteVdc(extra, 'other');
    // Platform operations stay out of reach.
    expect((await call('other', 'POST', '/api/domains', { id: uniqueName('dom'), name: 'x' })).status).toBe(403);
    expect((await call('other', 'DELETE', `/api/domains/${mine}`)).status).toBe(403);
    expect((await call('other', 'GET', '/api/users')).status).toBe(403);
    expect((await call('other', 'PUT', '/api/users/u-other/bindings', { bindings: [] })).status).toBe(403);

    // Deleting the domain's VDC and the domain drops the bindings scoped to them.
    await deleteVdc(myVdc);
    expect((await call('opsadmin', 'DELETE', `/api/domains/${mine}`)).status).toBe(204);
    expect(await bindingsOf('u-other')).toEqual(current);
    expect((await audited('binding.revoke', 'user:u-other', since)).map((e) => e.details)).toEqual([
      { role: 'domain-admin', scope: { type: 'domain', domainId: mine } },
    ]);
  });

  it("keeps every change when admins edit one user's memberships at the same time", async () => {
    const domainId = await newDomain();
    const vdcs = await Promise.all(Array.from({ length: 5 }, () => newVdc(domainId)));
    const since = await auditSeq();
    const puts = await Promise.all(vdcs.map((v) => call('opsadmin', 'PUT', `/api/vdcs/${v}/members/u-tenant`, { roles: ['vdc-user'] })));
    expect(puts.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await bindingsOf('u-tenant')).toEqual(expect.arrayContaining(vdcs.map((vdcId) => ({ role: 'vdc-user', scope: { type: 'vdc', vdcId } }))));
    expect(await audited('binding.grant', 'user:u-tenant', since)).toHaveLength(5);
    await Promise.all(vdcs.map((v) => deleteVdc(v)));
    expect(await bindingsOf('u-tenant')).toEqual(saved.get('u-tenant'));
  });

  it('refuses to delete a VDC with an open ticket, naming it, and changes nothing; deletes once the ticket is final', async () => {
    const domainId = await newDomain();
    const vdcId = await newVdc(domainId);
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: ['vdc-user'] })).status).toBe(200);
    const ticketId = await openTicket(vdcId);

    const refused = await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(`VDC ${vdcId} cannot be deleted: it has 1 open ticket (${ticketId}); wait for it to finish or cancel it`);
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body).toMatchObject({ id: vdcId, membersCount: 1 });
    expect(await bindingsOf('u-tenant')).toContainEqual({ role: 'vdc-user', scope: { type: 'vdc', vdcId } });

    await cancelTicket(ticketId);
    await deleteVdc(vdcId);
    expect(await bindingsOf('u-tenant')).toEqual(saved.get('u-tenant'));
  });

  it('refuses to delete a VDC with a ticket-made application space, naming it; its default namespace does not hold it back', async () => {
    const domainId = await newDomain();
    const vdcId = uniqueName('vdc');
    await seedVdc(store, kube, { id: vdcId, name: 'Live', domainId, quota });
    await store.spaces.record(vdcId, {
      name: 'web',
      namespace: `${vdcId}-web`,
      status: 'active',
      ticketId: 'tkt-probe',
      createdAt: new Date().toISOString(),
      pool: 'local',
    });
    const refused = await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(`VDC ${vdcId} cannot be deleted: it has 1 live application space (namespace ${vdcId}-web); delete it first`);
    expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body).toMatchObject({ id: vdcId, namespaceStatus: 'active' });

    await store.spaces.remove(vdcId, 'web');
    await deleteVdc(vdcId);
    expect(await kube.core.readNamespace({ name: `vdc-${vdcId}` }).catch(() => null)).toBeNull();
  });

  it('a custom role grants exactly its subset of the permission tree, on its VDC only', async () => {
    const since = await auditSeq();
    const slug = uniqueName('reader');
    const role = await call('opsadmin', 'POST', '/api/roles', {
      id: slug,
      name: 'Ticket reader',
      baseRole: 'vdc-user',
      permissions: ['ticket:read', 'vdc:read'],
    });
    expect(role).toMatchObject({ status: 201, body: { id: `custom:${slug}`, builtin: false, baseRole: 'vdc-user', permissions: ['ticket:read', 'vdc:read'] } });
    expect((await call('opsadmin', 'POST', '/api/roles', { id: slug, name: 'Again', baseRole: 'vdc-user', permissions: ['vdc:read'] })).status).toBe(409);
    const roles = (await call('tenant', 'GET', '/api/roles')).body.items;
    expect(roles).toContainEqual(
      expect.objectContaining({
        id: 'vdc-user',
        builtin: true,
        permissions: ['vdc:read', 'ticket:read', 'ticket:create', 'workload:read', 'workload:operate', 'volume:write', 'config:read', 'config:write'],
      }),
    );
    expect(roles).toContainEqual(expect.objectContaining({ id: `custom:${slug}`, permissions: ['ticket:read', 'vdc:read'] }));

    const domainId = await newDomain();
    const [vdcA, vdcB] = [await newVdc(domainId), await newVdc(domainId)];
    const [ticketA, ticketB] = [await openTicket(vdcA), await openTicket(vdcB)];
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcA}/members/u-other`, { roles: [`custom:${slug}`] })).status).toBe(200);

    expect((await call('other', 'GET', `/api/tickets/${ticketA}`)).status).toBe(200);
    expect((await call('other', 'GET', `/api/vdcs/${vdcA}`)).status).toBe(200);
    expect((await call('other', 'GET', '/api/tickets?scope=all')).body.items.map((t: TicketView) => t.id)).toContain(ticketA);
    const submit = await call('other', 'POST', '/api/tickets', { type: 'quota-change', vdcId: vdcA, quota: { pods: 11 } });
    expect(submit.status).toBe(403);
    expect((await call('other', 'POST', `/api/tickets/${ticketA}/decisions`, { decision: 'approve' })).status).toBe(403);
    expect((await call('other', 'PUT', `/api/vdcs/${vdcA}/members/u-tenant`, { roles: ['vdc-user'] })).status).toBe(403);
    expect((await call('other', 'DELETE', `/api/vdcs/${vdcA}`)).status).toBe(403);
    expect((await call('other', 'GET', `/api/vdcs/${vdcB}`)).status).toBe(404);
    expect((await call('other', 'GET', `/api/tickets/${ticketB}`)).status).toBe(404);
    expect((await call('other', 'GET', '/api/tickets?scope=all')).body.items.map((t: TicketView) => t.id)).not.toContain(ticketB);

    // Editing the role takes effect on the next request of everyone bound to it.
    const patched = await call('opsadmin', 'PATCH', `/api/roles/custom:${slug}`, { permissions: ['ticket:read', 'vdc:read', 'ticket:create'] });
    expect(patched).toMatchObject({ status: 200, body: { permissions: ['ticket:read', 'vdc:read', 'ticket:create'] } });
    const now = await call('other', 'POST', '/api/tickets', { type: 'quota-change', vdcId: vdcA, quota: { pods: 11 } });
    expect(now.status).toBe(201);
    expect((await call('other', 'POST', `/api/tickets/${now.body.id}/cancel`, {})).status).toBe(200);

    const bound = await call('opsadmin', 'DELETE', `/api/roles/custom:${slug}`);
    expect(bound.status).toBe(409);
    expect(bound.body.detail).toMatch(/still bound to 1 user/);
    expect((await call('opsadmin', 'DELETE', `/api/vdcs/${vdcA}/members/u-other`)).status).toBe(204);
    expect((await call('opsadmin', 'DELETE', `/api/roles/${slug}`)).status).toBe(204);
    expect((await call('opsadmin', 'GET', '/api/roles')).body.items.map((r: { id: string }) => r.id)).not.toContain(`custom:${slug}`);
    for (const action of ['role.create', 'role.update', 'role.delete']) {
      expect((await audited(action, `role:custom:${slug}`, since)).map((e) => [e.outcome, e.actor?.sub])).toEqual([['success', 'u-opsadmin']]);
    }
    await Promise.all([cancelTicket(ticketA), cancelTicket(ticketB)]);
  });

  it('refuses privilege escalation: nobody grants or defines a role holding more than they hold', async () => {
    const since = await auditSeq();
    const mk = async (permissions: string[], baseRole = 'vdc-user'): Promise<string> => {
      const slug = uniqueName('role');
      const r = await call('opsadmin', 'POST', '/api/roles', { id: slug, name: slug, baseRole, permissions });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    };
    const membersManager = await mk(['vdc:read', 'vdc:members']);
    const reader = await mk(['vdc:read', 'ticket:read']);
    const opsApprover = await mk(['vdc:read', 'ticket:read', 'ticket:decide'], 'ops-admin');
    const roleWriter = await mk(['role:write']);
    const domainId = await newDomain();
    const vdcId = await newVdc(domainId);

    // VDC level: a members manager may hand out what it holds, nothing more.
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-other`, { roles: [membersManager] })).status).toBe(200);
    const self = await call('other', 'PUT', `/api/vdcs/${vdcId}/members/u-other`, { roles: [membersManager, 'vdc-admin'] });
    expect(self.status).toBe(403);
    expect(self.body.detail).toMatch(/cannot grant vdc-admin on VDC .*ticket:read, ticket:create, ticket:decide, report:read/);
    expect(await bindingsOf('u-other')).toEqual([...saved.get('u-other')!, { role: membersManager, scope: { type: 'vdc', vdcId } }]);
    expect((await call('other', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'tenant', roles: [reader] })).status).toBe(403);
    expect((await call('other', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'tenant', roles: [membersManager] })).status).toBe(201);
    expect((await call('other', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`)).status).toBe(204);
    const failures = await audited('binding.grant', 'user:u-other', since);
    expect(failures.filter((e) => e.outcome === 'failure').map((e) => [e.actor?.sub, e.details?.role])).toEqual([['u-other', 'vdc-admin']]);

    // Approval authority counts too: a VDC admin cannot mint operations-admin approvers.
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-other`, { roles: ['vdc-admin'] })).status).toBe(200);
    const approver = await call('other', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'tenant', roles: [opsApprover] });
    expect(approver.status).toBe(403);
    expect(approver.body.detail).toMatch(/approval as ops-admin/);
    expect((await call('other', 'POST', `/api/vdcs/${vdcId}/members`, { user: 'tenant', roles: [reader] })).status).toBe(201);
    expect((await call('other', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`)).status).toBe(204);

    // Platform level: a role writer holding only role:write.
    expect((await call('opsadmin', 'PUT', '/api/users/u-finance/bindings', { bindings: [{ role: roleWriter, scope: { type: 'platform' } }] })).status).toBe(
      200,
    );
    expect((await call('finance', 'GET', '/api/users')).status).toBe(200);
    const toOps = await call('finance', 'PUT', '/api/users/u-finance/bindings', {
      bindings: [
        { role: roleWriter, scope: { type: 'platform' } },
        { role: 'ops-admin', scope: { type: 'platform' } },
      ],
    });
    expect(toOps.status).toBe(403);
    expect(toOps.body.detail).toMatch(/cannot grant ops-admin on the platform/);
    expect(await bindingsOf('u-finance')).toEqual([{ role: roleWriter, scope: { type: 'platform' } }]);
    const define = await call('finance', 'POST', '/api/roles', { id: uniqueName('sneaky'), name: 'x', baseRole: 'vdc-user', permissions: ['ticket:decide'] });
    expect(define.status).toBe(403);
    expect(define.body.detail).toMatch(/ticket:decide/);
    const own = await call('finance', 'POST', '/api/roles', { id: uniqueName('writer'), name: 'x', baseRole: 'vdc-user', permissions: ['role:write'] });
    expect(own.status).toBe(201);
    expect((await call('finance', 'PATCH', `/api/roles/${own.body.id}`, { permissions: ['role:write', 'audit:read'] })).status).toBe(403);
    expect((await call('finance', 'PATCH', `/api/roles/${own.body.id}`, { name: 'Role writer' })).status).toBe(200);
    expect((await call('finance', 'DELETE', `/api/roles/${own.body.id}`)).status).toBe(204);
  });

  it('refuses revoking a binding the caller could not have granted, and audits the refusal', async () => {
    const since = await auditSeq();
    const slug = uniqueName('opsappr');
    const made = await call('opsadmin', 'POST', '/api/roles', {
      id: slug,
      name: slug,
      baseRole: 'ops-admin',
      permissions: ['vdc:read', 'ticket:read', 'ticket:decide'],
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const domainId = await newDomain();
    const vdcId = await newVdc(domainId);
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-other`, { roles: ['vdc-admin'] })).status).toBe(200);
    expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: [made.body.id, 'vdc-user'] })).status).toBe(200);
    const before = await bindingsOf('u-tenant');

    // The VDC admin holds no ops-admin approval authority, so it can neither remove nor replace that role.
    const removed = await call('other', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`);
    expect(removed.status).toBe(403);
    expect(removed.body.detail).toMatch(new RegExp(`cannot revoke ${made.body.id} on VDC ${vdcId}: .*approval as ops-admin`));
    expect((await call('other', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: ['vdc-user'] })).status).toBe(403);
    expect(await bindingsOf('u-tenant')).toEqual(before);
    const refusals = (await audited('binding.revoke', 'user:u-tenant', since)).filter((e) => e.outcome === 'failure');
    expect(refusals.map((e) => [e.actor?.sub, e.details?.role])).toEqual([
      ['u-other', made.body.id],
      ['u-other', made.body.id],
    ]);

    // What it could grant it may take away; the ops admin may take away everything.
    expect((await call('other', 'PUT', `/api/vdcs/${vdcId}/members/u-tenant`, { roles: [made.body.id] })).status).toBe(200);
    expect((await call('opsadmin', 'DELETE', `/api/vdcs/${vdcId}/members/u-tenant`)).status).toBe(204);
    expect((await bindingsOf('u-tenant')).some((b) => b.scope.type === 'vdc' && b.scope.vdcId === vdcId)).toBe(false);
  });

  it.each([
    ['domain id not a DNS label', 'POST', '/api/domains', { id: 'Bad_Id', name: 'x' }, 'id'],
    ['unknown domain field', 'POST', '/api/domains', { id: 'fine', name: 'x', owner: 'me' }, 'owner'],
    [
      'missing quota resource',
      'POST',
      '/api/domains/DOMAIN/vdcs',
      { id: 'v', name: 'x', pools: [{ pool: 'local', quota: { cpu: 1, memoryGi: 1 } }] },
      'pools[0].quota.pods',
    ],
    [
      'negative quota',
      'POST',
      '/api/domains/DOMAIN/vdcs',
      { id: 'v', name: 'x', pools: [{ pool: 'local', quota: { ...quota, cpu: -1 } }] },
      'pools[0].quota.cpu',
    ],
    [
      'unknown quota resource',
      'POST',
      '/api/domains/DOMAIN/vdcs',
      { id: 'v', name: 'x', pools: [{ pool: 'local', quota: { ...quota, gpu: 1 } }] },
      'pools[0].quota.gpu',
    ],
    ['VDC id too long for its namespace', 'POST', '/api/domains/DOMAIN/vdcs', { id: 'v'.repeat(60), name: 'x', pools: [{ pool: 'local', quota }] }, 'id'],
    ['VDC without name', 'POST', '/api/domains/DOMAIN/vdcs', { id: 'v', pools: [{ pool: 'local', quota }] }, 'name'],
    ['VDC without pools', 'POST', '/api/domains/DOMAIN/vdcs', { id: 'v', name: 'x', quota }, 'pools'],
    ['VDC on no pool', 'POST', '/api/domains/DOMAIN/vdcs', { id: 'v', name: 'x', pools: [] }, 'pools'],
    [
      'VDC on one pool twice',
      'POST',
      '/api/domains/DOMAIN/vdcs',
      {
        id: 'v',
        name: 'x',
        pools: [
          { pool: 'local', quota },
          { pool: 'local', quota },
        ],
      },
      'pools[1].pool',
    ],
    [
      'permission not a leaf',
      'POST',
      '/api/roles',
      { id: 'r', name: 'x', baseRole: 'vdc-user', permissions: ['ticket:read', 'vdc:read', 'report:read', 'tickets'] },
      'permissions[3]',
    ],
    ['unknown permission', 'POST', '/api/roles', { id: 'r', name: 'x', baseRole: 'vdc-user', permissions: ['root:all'] }, 'permissions[0]'],
    ['unknown base role', 'POST', '/api/roles', { id: 'r', name: 'x', baseRole: 'root', permissions: ['vdc:read'] }, 'baseRole'],
    ['role id not a slug', 'POST', '/api/roles', { id: 'Has Space', name: 'x', baseRole: 'vdc-user', permissions: ['vdc:read'] }, 'id'],
    ['empty role patch', 'PATCH', '/api/roles/anything', {}, '(body)'],
    ['domain role on a VDC', 'PUT', '/api/vdcs/VDC/members/u-tenant', { roles: ['vdc-user', 'domain-admin'] }, 'roles[1]'],
    ['unknown custom role', 'PUT', '/api/vdcs/VDC/members/u-tenant', { roles: ['custom:no-such-role'] }, 'roles[0]'],
    ['members body without roles', 'PUT', '/api/vdcs/VDC/members/u-tenant', { role: 'vdc-user' }, 'roles'],
    [
      'domain-admin at platform scope',
      'PUT',
      '/api/users/u-tenant/bindings',
      { bindings: [{ role: 'domain-admin', scope: { type: 'platform' } }] },
      'bindings[0].scope.type',
    ],
    [
      'binding to an unknown VDC',
      'PUT',
      '/api/users/u-tenant/bindings',
      { bindings: [{ role: 'vdc-user', scope: { type: 'vdc', vdcId: 'no-such-vdc' } }] },
      'bindings[0].scope.vdcId',
    ],
    [
      'binding to an unknown domain',
      'PUT',
      '/api/users/u-tenant/bindings',
      { bindings: [{ role: 'finance', scope: { type: 'domain', domainId: 'no-such-domain' } }] },
      'bindings[0].scope.domainId',
    ],
    ['binding of an unknown role', 'PUT', '/api/users/u-tenant/bindings', { bindings: [{ role: 'root', scope: { type: 'platform' } }] }, 'bindings[0].role'],
    ['unknown scope type', 'PUT', '/api/users/u-tenant/bindings', { bindings: [{ role: 'vdc-user', scope: { type: 'galaxy' } }] }, 'bindings[0].scope.type'],
  ])('refuses %s with 400 naming the field, changing nothing', async (_name, method, path, body, field) => {
    const domainId = await newDomain();
    const vdcId = await newVdc(domainId);
    const before = await bindingsOf('u-tenant');
    const r = await call('opsadmin', method, path.replace('DOMAIN', domainId).replace('VDC', vdcId), body);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await bindingsOf('u-tenant')).toEqual(before);
    expect((await call('opsadmin', 'GET', `/api/domains/${domainId}`)).body.vdcCount).toBe(1);
  });

  it('refuses a VDC quota above the platform ceiling with 422 naming the resource', async () => {
    const domainId = await newDomain();
    const r = await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, {
      id: uniqueName('vdc'),
      name: 'Huge',
      pools: [{ pool: 'local', quota: { ...quota, cpu: 100_000 } }],
    });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([{ field: 'pools[0].quota.cpu', message: expect.stringMatching(/ceiling/) }]);
    expect((await call('opsadmin', 'GET', `/api/domains/${domainId}`)).body.vdcCount).toBe(0);
  });

  it('refuses a VDC on a pool that is not registered with 422 naming the pool field', async () => {
    const domainId = await newDomain();
    const r = await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, {
      id: uniqueName('vdc'),
      name: 'Nowhere',
      pools: [
        { pool: 'local', quota },
        { pool: 'no-such-pool', quota },
      ],
    });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([{ field: 'pools[1].pool', message: expect.stringMatching(/not registered/) }]);
    expect((await call('opsadmin', 'GET', `/api/domains/${domainId}`)).body.vdcCount).toBe(0);
  });
});
