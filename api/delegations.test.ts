import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { DelegationView } from '../common/delegations.ts';
import type { RoleBinding } from '../common/roles.ts';
import type { QuotaChangeTicketView as TicketView, TimelineEntry } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Delegation routes and delegated decisions over HTTP (real api and worker processes, real stack), and
 * cancellation by an admin. `other` is a domain admin of this test's own domain: allowed on the decide
 * route, but not a VDC admin, so on a VDC admin step they can only decide as `vdcadmin`'s delegate.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('dlg');
const domainId = uniqueName('dlgd');
const users = ['tenant', 'vdcadmin', 'other', 'opsadmin'] as const;
const { call, login, untilTicket } = testHttp();
const original: Record<string, RoleBinding[]> = {};

let store: Store;
let api: AppProcess;
let worker: AppProcess;

const until = (id: string, pred: (t: TicketView) => boolean): Promise<TicketView> => untilTicket('tenant', id, pred);

const submit = async (cpu: number): Promise<TicketView> => {
  const r = await call('tenant', 'POST', '/api/tickets', { type: 'quota-change', vdcId, quota: { cpu } });
  expect(r.status).toBe(201);
  return until((r.body as TicketView).id, (t) => t.status === 'pending_approval');
};

const inHours = (h: number): string => new Date(Date.now() + h * 3_600_000).toISOString();
const auditOf = (action: string, delegationId: string) => store.testing.collection(AUDIT_COLLECTION).findOne({ action, 'details.delegationId': delegationId });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  for (const u of users) original[u] = await store.users.bindings(demoUserByUsername(u)!.sub);
  await store.domains.create({ _id: domainId, name: domainId });
  await seedVdc(store, kube, { id: vdcId, name: 'Delegation VDC', domainId, quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('other')!, [{ role: 'domain-admin', scope: { type: 'domain', domainId } }]);
  const env = appEnvFromProcess();
  [worker, api] = [startApp(repoDir, 'worker', env), startApp(repoDir, 'api', env)];
  await Promise.all([waitForWorker(worker), waitForApi(api, base)]);
  await login(...users);
}, 240_000);

afterAll(async () => {
  for (const u of users) {
    const d = demoUserByUsername(u)!;
    if (original[u]) await store.users.upsert({ _id: d.sub, username: d.username, name: d.name, email: d.email, bindings: original[u] }).catch(() => undefined);
  }
  await store?.testing.collection('delegations').deleteMany({ 'delegator.sub': demoUserByUsername('vdcadmin')!.sub });
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('delegations', () => {
  let delegation: DelegationView;

  it('refuses bad input naming the field, and callers who decide nothing', async () => {
    for (const [body, field] of [
      [{ delegateSub: 'u-vdcadmin', until: inHours(24) }, 'delegateSub'],
      [{ delegateSub: 'u-nobody-here', until: inHours(24) }, 'delegateSub'],
      [{ delegateSub: 'u-other', until: inHours(-1) }, 'until'],
      [{ delegateSub: 'u-other', until: inHours(24 * 91) }, 'until'],
      [{ delegateSub: 'u-other', from: inHours(5), until: inHours(4) }, 'until'],
      [{ delegateSub: 'u-other', until: inHours(24), extra: 1 }, ''],
    ] as const) {
      const r = await call('vdcadmin', 'PUT', '/api/delegations', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (field) expect(JSON.stringify(r.body), JSON.stringify(body)).toContain(field);
    }
    expect((await call('tenant', 'PUT', '/api/delegations', { delegateSub: 'u-other', until: inHours(24) })).status).toBe(403);
    expect((await call('vdcadmin', 'GET', '/api/delegations')).body.items.filter((d: DelegationView) => d.delegate.sub === 'u-other')).toEqual([]);
  });

  it('PUT creates (201) then replaces (200) the one delegation per delegate; both sides list it; audited', async () => {
    const created = await call('vdcadmin', 'PUT', '/api/delegations', { delegateSub: 'u-other', until: inHours(24), reason: 'holiday' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      delegator: { sub: 'u-vdcadmin' },
      delegate: { sub: 'u-other', name: 'Oscar Other' },
      reason: 'holiday',
      active: true,
    });
    const replaced = await call('vdcadmin', 'PUT', '/api/delegations', { delegateSub: 'u-other', until: inHours(48) });
    expect(replaced.status).toBe(200);
    expect(replaced.body.id).toBe(created.body.id);
    expect(replaced.body.reason).toBeUndefined();
    delegation = replaced.body as DelegationView;
    for (const u of ['vdcadmin', 'other']) {
      const items = (await call(u, 'GET', '/api/delegations')).body.items as DelegationView[];
      expect(items.filter((d) => d.id === delegation.id)).toHaveLength(1);
    }
    expect(await auditOf('delegation.put', delegation.id)).toMatchObject({ actor: { sub: 'u-vdcadmin' }, target: 'user:u-other', outcome: 'success' });
  });

  it("the delegate decides a VDC admin step on the approver's behalf, recorded and shown as such", async () => {
    const t = await submit(5);
    const r = await call('other', 'POST', `/api/tickets/${t.id}/decisions`, { decision: 'approve', comment: 'covering for Victor' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const done = await until(t.id, (x) => x.status === 'completed');
    expect(done.approvals[0]).toMatchObject({ decision: 'approve', actor: { sub: 'u-other' }, onBehalfOf: { sub: 'u-vdcadmin' } });
    const timeline = (await call('tenant', 'GET', `/api/tickets/${t.id}/timeline`)).body.items as TimelineEntry[];
    expect(timeline).toContainEqual(expect.objectContaining({ kind: 'decision', title: 'Approved on behalf of Victor VDC-Admin', actor: 'Oscar Other' }));
  });

  it('DELETE is owner-only and idempotent; afterwards the delegate can no longer decide', async () => {
    expect((await call('other', 'DELETE', `/api/delegations/${delegation.id}`)).status).toBe(204);
    expect((await call('vdcadmin', 'GET', '/api/delegations')).body.items.some((d: DelegationView) => d.id === delegation.id)).toBe(true);
    expect((await call('vdcadmin', 'DELETE', `/api/delegations/${delegation.id}`)).status).toBe(204);
    expect((await call('vdcadmin', 'DELETE', `/api/delegations/${delegation.id}`)).status).toBe(204);
    expect((await call('vdcadmin', 'GET', '/api/delegations')).body.items.some((d: DelegationView) => d.id === delegation.id)).toBe(false);
    expect(await auditOf('delegation.delete', delegation.id)).toMatchObject({ actor: { sub: 'u-vdcadmin' }, target: 'user:u-other' });
    const t = await submit(6);
    expect((await call('other', 'POST', `/api/tickets/${t.id}/decisions`, { decision: 'approve' })).status).toBe(403);
    await call('tenant', 'POST', `/api/tickets/${t.id}/cancel`, {});
  });
});

describe('cancel by an admin', () => {
  it("a VDC admin of the VDC cancels someone else's pending ticket; a domain admin may not", async () => {
    const t = await submit(7);
    expect((await call('other', 'POST', `/api/tickets/${t.id}/cancel`, { reason: 'not mine' })).status).toBe(403);
    expect((await call('vdcadmin', 'POST', `/api/tickets/${t.id}/cancel`, { reason: 'duplicate' })).status).toBe(200);
    const done = await until(t.id, (x) => x.status === 'cancelled');
    expect(done.error).toBe('cancelled by Victor VDC-Admin: duplicate');
  });

  it('an operations admin cancels any pending ticket', async () => {
    const t = await submit(8);
    expect((await call('opsadmin', 'POST', `/api/tickets/${t.id}/cancel`, {})).status).toBe(200);
    expect((await until(t.id, (x) => x.status === 'cancelled')).error).toBe('cancelled by Olga Ops');
  });
});
