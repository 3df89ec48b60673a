import { PatchStrategy, type V1NetworkPolicy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { SecurityGroup } from '../common/network.ts';
import type { WorkloadSpec } from '../common/workload.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Security groups over HTTP against the real stack (api and worker as processes, kube-apiserver): the
 * NetworkPolicies a group renders, how member changes and deletion update them, rollback of a change the
 * kube-apiserver refuses, and tenant isolation.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcId = uniqueName('sg');
const otherVdc = uniqueName('sgo');
const ns = namespaceOf(vdcId);
const spaceNs = `${vdcId}-web`;

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login } = testHttp({ prefix: '/api' });

const groupsPath = `/vdcs/${vdcId}/security-groups`;

/** The NetworkPolicies rendered for the VDC, by `namespace/name`. */
async function rendered(): Promise<Map<string, V1NetworkPolicy>> {
  const { items } = await kube.objects.list<V1NetworkPolicy>(
    'networking.k8s.io/v1',
    'NetworkPolicy',
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    `edgeport.io/vdc=${vdcId}`,
  );
  return new Map(items.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p]));
}

const spec = (name: string): WorkloadSpec =>
  ({ kind: 'Deployment', name, replicas: 1, containers: [{ name: 'app', image: `registry.invalid/${name}:1` }] }) as WorkloadSpec;
const record = (namespace: string, name: string, vdc = vdcId) =>
  store.workloads.recordRevision({ vdcId: vdc, namespace, name, kind: 'Deployment', revision: 1, spec: spec(name), ticketId: `t-${name}` });

const NAME = 'app.kubernetes.io/name';
const nsSel = (n: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': n } });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Security group VDC', domainId: 'sg-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await seedVdc(store, kube, { id: otherVdc, name: 'Other security group VDC', domainId: 'sg-domain', quota: { cpu: 1, memoryGi: 1, pods: 5 } });
  await kube.objects.patch(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: spaceNs, labels: { 'edgeport.io/vdc': vdcId } } },
    undefined,
    undefined,
    'test',
    true,
    PatchStrategy.ServerSideApply,
  );
  await store.spaces.record(vdcId, { name: 'web', namespace: spaceNs, status: 'active', ticketId: 't-space', createdAt: new Date().toISOString() });
  for (const [n, name] of [
    [ns, 'front'],
    [ns, 'api'],
    [ns, 'pg'],
    [spaceNs, 'cache'],
    [`${vdcId}-ghost`, 'ghost'],
  ] as const)
    await record(n, name);
  await record(namespaceOf(otherVdc), 'foreign', otherVdc);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('other')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId: otherVdc } }]);
  api = startApp(repoDir, 'api', env);
  // Generous start-up: the api and the worker (webpack bundle) start together on a shared, busy machine.
  const w = startApp(repoDir, 'worker', env);
  await Promise.all([waitForWorker(w, 240_000), waitForApi(api, base, 240_000)]);
  worker = w;
  await login('tenant', 'vdcadmin', 'other');
}, 300_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('security groups over HTTP', () => {
  let db: SecurityGroup;
  let web: SecurityGroup;

  it('refuses bad rules with a problem naming the field, and stores nothing', async () => {
    const cases: [unknown, string][] = [
      [{ direction: 'in', protocol: 'TCP', port: 0, peer: { kind: 'cidr', cidr: '10.0.0.0/8' } }, 'rules[0].port'],
      [{ direction: 'in', protocol: 'TCP', port: 70000, peer: { kind: 'cidr', cidr: '10.0.0.0/8' } }, 'rules[0].port'],
      [{ direction: 'in', protocol: 'TCP', port: 90, endPort: 80, peer: { kind: 'cidr', cidr: '10.0.0.0/8' } }, 'rules[0].endPort'],
      [{ direction: 'in', protocol: 'SCTP', port: 80, peer: { kind: 'cidr', cidr: '10.0.0.0/8' } }, 'rules[0].protocol'],
      [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'cidr', cidr: '10.1.2.3/8' } }, 'rules[0].peer.cidr'],
      [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'cidr', cidr: 'not-a-cidr' } }, 'rules[0].peer.cidr'],
      [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'group', group: 'sg-0000000000' } }, 'rules[0].peer.group'],
      [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'workload', namespace: namespaceOf(otherVdc), name: 'foreign' } }, 'rules[0].peer.name'],
      [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'space', space: 'nope' } }, 'rules[0].peer.space'],
    ];
    for (const [rule, field] of cases) {
      const r = await call('vdcadmin', 'POST', groupsPath, { name: 'bad', rules: [rule] });
      expect(r.status, JSON.stringify(rule)).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await call('vdcadmin', 'GET', groupsPath)).body.items).toEqual([]);
    // A VDC user may look but not change the network.
    expect((await call('tenant', 'POST', groupsPath, { name: 'mine' })).status).toBe(403);
  });

  it('a group with two member workloads renders the expected NetworkPolicies on the kube-apiserver', async () => {
    const created = await call('vdcadmin', 'POST', groupsPath, {
      name: 'db',
      rules: [{ direction: 'in', protocol: 'TCP', port: 5432, peer: { kind: 'space', space: 'web' } }],
    });
    expect(created.status).toBe(201);
    db = created.body;
    const r = await call('vdcadmin', 'POST', groupsPath, {
      name: 'web',
      description: 'front ends',
      rules: [
        { direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'cidr', cidr: '10.0.0.0/8' } },
        { direction: 'out', protocol: 'TCP', port: 5432, peer: { kind: 'group', group: db.id } },
      ],
    });
    expect(r.status).toBe(201);
    web = r.body;
    expect((await call('vdcadmin', 'POST', groupsPath, { name: 'web' })).status).toBe(409);
    // A group without members renders nothing.
    expect([...(await rendered()).keys()]).toEqual([]);

    const bad = await call('vdcadmin', 'POST', `${groupsPath}/${web.id}/members`, { add: [{ namespace: namespaceOf(otherVdc), name: 'foreign' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('add[0]');

    expect(
      (
        await call('vdcadmin', 'POST', `${groupsPath}/${db.id}/members`, {
          add: [
            { namespace: ns, name: 'pg' },
            { namespace: spaceNs, name: 'cache' },
          ],
        })
      ).status,
    ).toBe(200);
    const added = await call('vdcadmin', 'POST', `${groupsPath}/${web.id}/members`, {
      add: [
        { namespace: ns, name: 'front' },
        { namespace: ns, name: 'api' },
      ],
    });
    expect(added.status).toBe(200);
    expect(added.body.members).toEqual([
      { namespace: ns, name: 'api' },
      { namespace: ns, name: 'front' },
    ]);

    const live = await rendered();
    expect([...live.keys()].sort()).toEqual([`${ns}/edgeport-${db.id}`, `${ns}/edgeport-${web.id}`, `${spaceNs}/edgeport-${db.id}`].sort());
    const p = live.get(`${ns}/edgeport-${web.id}`)!;
    expect(p.metadata?.labels).toMatchObject({ 'edgeport.io/vdc': vdcId, 'edgeport.io/security-group': web.id, 'app.kubernetes.io/managed-by': 'edgeport' });
    expect(p.metadata?.managedFields?.some((f) => f.manager === 'edgeport' && f.operation === 'Apply')).toBe(true);
    expect(p.spec).toMatchObject({
      podSelector: { matchExpressions: [{ key: NAME, operator: 'In', values: ['api', 'front'] }] },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 80 }] }],
      egress: [
        {
          to: [
            { namespaceSelector: nsSel(spaceNs), podSelector: { matchLabels: { [NAME]: 'cache' } } },
            { namespaceSelector: nsSel(ns), podSelector: { matchLabels: { [NAME]: 'pg' } } },
          ],
          ports: [{ protocol: 'TCP', port: 5432 }],
        },
      ],
    });
    expect(live.get(`${spaceNs}/edgeport-${db.id}`)?.spec).toMatchObject({
      podSelector: { matchLabels: { [NAME]: 'cache' } },
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ namespaceSelector: nsSel(spaceNs) }] }],
    });

    const read = await call('tenant', 'GET', `${groupsPath}/${web.id}/policies`);
    expect(read.status).toBe(200);
    expect(read.body.items).toHaveLength(1);
    expect(read.body.items[0]).toMatchObject({ namespace: ns, name: `edgeport-${web.id}` });
    expect(read.body.items[0].yaml).toMatch(/^apiVersion: networking\.k8s\.io\/v1\nkind: NetworkPolicy\n/);
    expect(read.body.items[0].yaml).toMatch(/^\s+- from:/m);
    expect(read.body.items[0].yaml).not.toContain('_from');
    expect(read.body.items[0].yaml).not.toContain('managedFields');
  });

  it('removing a member updates the policies; a peer group losing a member updates the groups that name it', async () => {
    // A NetworkPolicy someone wrote by hand in the same namespace is never touched.
    await kube.objects.patch(
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'hand-made', namespace: ns, labels: { 'edgeport.io/vdc': vdcId } },
        spec: { podSelector: {} },
      } as V1NetworkPolicy,
      undefined,
      undefined,
      'someone',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((await call('vdcadmin', 'POST', `${groupsPath}/${web.id}/members`, { remove: [{ namespace: ns, name: 'api' }] })).status).toBe(200);
    expect((await call('vdcadmin', 'POST', `${groupsPath}/${db.id}/members`, { remove: [{ namespace: spaceNs, name: 'cache' }] })).status).toBe(200);
    const live = await rendered();
    expect([...live.keys()].sort()).toEqual([`${ns}/edgeport-${db.id}`, `${ns}/edgeport-${web.id}`, `${ns}/hand-made`].sort());
    const p = live.get(`${ns}/edgeport-${web.id}`)!;
    expect(p.spec?.podSelector).toEqual({ matchLabels: { [NAME]: 'front' } });
    expect(p.spec?.egress?.[0]?.to).toEqual([{ namespaceSelector: nsSel(ns), podSelector: { matchLabels: { [NAME]: 'pg' } } }]);

    const notMember = await call('vdcadmin', 'POST', `${groupsPath}/${web.id}/members`, { remove: [{ namespace: ns, name: 'api' }] });
    expect(notMember.status).toBe(400);
    expect(notMember.body.errors[0].field).toBe('remove[0]');
  });

  it('a change the kube-apiserver refuses is rolled back in the store and audited as failed', async () => {
    const before = (await call('vdcadmin', 'GET', `${groupsPath}/${web.id}`)).body as SecurityGroup;
    // The recorded workload's namespace does not exist in the cluster: the dry-run is refused.
    const r = await call('vdcadmin', 'POST', `${groupsPath}/${web.id}/members`, { add: [{ namespace: `${vdcId}-ghost`, name: 'ghost' }] });
    expect(r.status).toBe(422);
    expect(r.body.detail ?? r.body.title).toBeDefined();
    const after = (await call('vdcadmin', 'GET', `${groupsPath}/${web.id}`)).body as SecurityGroup;
    expect(after).toEqual(before);
    expect([...(await rendered()).keys()].sort()).toEqual([`${ns}/edgeport-${db.id}`, `${ns}/edgeport-${web.id}`, `${ns}/hand-made`].sort());
    const entry = await store.testing
      .collection(AUDIT_COLLECTION)
      .findOne({ action: 'security-group.members', target: `vdc:${vdcId}/security-group:${web.id}`, outcome: 'failure' });
    expect(entry?.details).toMatchObject({ rolledBack: true, clusterRestored: true });
  });

  it("another VDC's tenant gets 404 for the groups, their members and policies", async () => {
    for (const [method, path, body] of [
      ['GET', groupsPath],
      ['GET', `${groupsPath}/${web.id}`],
      ['GET', `${groupsPath}/${web.id}/policies`],
      ['POST', `${groupsPath}/${web.id}/members`, { remove: [{ namespace: ns, name: 'front' }] }],
      ['DELETE', `${groupsPath}/${web.id}`],
    ] as const) {
      expect((await call('other', method, path, body)).status, `${method} ${path}`).toBe(404);
    }
    // Nor does a group id of this VDC open through the other VDC's path.
    expect((await call('other', 'GET', `/vdcs/${otherVdc}/security-groups/${web.id}`)).status).toBe(404);
  });

  it("a space's default deny-other-spaces is its own NetworkPolicy; allow-all removes it", async () => {
    expect((await call('tenant', 'GET', `/vdcs/${vdcId}/network-defaults`)).body.items).toEqual([{ space: 'web', namespace: spaceNs, policy: 'allow-all' }]);
    expect((await call('vdcadmin', 'PUT', `/vdcs/${vdcId}/network-defaults/web`, { policy: 'deny-other-spaces' })).status).toBe(200);
    expect((await rendered()).get(`${spaceNs}/edgeport-space-default`)?.spec).toMatchObject({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ _from: [{ podSelector: {} }] }],
    });
    expect((await call('vdcadmin', 'PUT', `/vdcs/${vdcId}/network-defaults/web`, { policy: 'allow-all' })).status).toBe(200);
    expect((await rendered()).has(`${spaceNs}/edgeport-space-default`)).toBe(false);
  });

  it('deleting a group removes exactly the policies it rendered', async () => {
    // A group another group's rules name cannot go first.
    expect((await call('vdcadmin', 'DELETE', `${groupsPath}/${db.id}`)).status).toBe(409);
    expect((await call('vdcadmin', 'DELETE', `${groupsPath}/${web.id}`)).status).toBe(204);
    expect([...(await rendered()).keys()].sort()).toEqual([`${ns}/edgeport-${db.id}`, `${ns}/hand-made`]);
    expect((await call('vdcadmin', 'DELETE', `${groupsPath}/${db.id}`)).status).toBe(204);
    expect([...(await rendered()).keys()]).toEqual([`${ns}/hand-made`]);
    const actions = (
      await store.testing
        .collection(AUDIT_COLLECTION)
        .find({ target: { $regex: `^vdc:${vdcId}/` }, outcome: 'success' })
        .toArray()
    ).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['security-group.create', 'security-group.members', 'security-group.delete', 'network.space-default']));
  });
});
