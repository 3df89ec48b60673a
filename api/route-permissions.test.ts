import { createHash } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { ROLES, type Role, type RoleBinding } from '../common/roles.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { createApp } from './app.ts';
import { loginAs } from './auth/test-login.ts';
import { loadApiConfig } from './config.ts';
import type { RouteDef } from './routes/define.ts';
import { CONTENT_SECURITY_POLICY } from './security-headers.ts';

/**
 * Every /api route × every built-in role × own scope / other scope, over HTTP against the real API.
 * The expectations below are written out by hand (not derived from the permission table), so a change
 * in what a role may do shows up here. A route mounted without an entry in EXPECT fails the suite.
 */

const ALL: Role[] = Object.values(ROLES);
const { opsAdmin: OPS, maintenanceAdmin: MAINT, domainAdmin: DOMAIN, vdcAdmin: VDCA, vdcUser: VDCU, finance: FIN } = ROLES;
/** Roles bound at platform scope in this test: for them "other scope" is the same as their own. */
const PLATFORM_BOUND = new Set<Role>([OPS, MAINT, FIN]);

interface Fixture {
  domain: string;
  vdc: string;
  ticket: string;
  /** A finished report job requested by opsadmin. */
  job: string;
}
interface Probe {
  path: string;
  body?: unknown;
}
/** `allow`: roles allowed in their own scope; `signedIn`: every signed-in user, whatever the role. */
type Expectation = { allow: Role[]; probe: (f: Fixture) => Probe } | { signedIn: true; probe: (f: Fixture) => Probe };

// Probes never change the pool: cordon/uncordon send a body the route refuses (400 once allowed), since
// cordoning local's only amd64 node, even for a moment, fails other files' scheduling checks beside this one.
const pool = 'local';
/** A security group of the fixture VDC (made in `fixture`), its id derived from the VDC's. */
const probeGroup = (vdc: string): string => `sg-${createHash('sha256').update(vdc).digest('hex').slice(0, 10)}`;
let customRole = '';
const subject = demoUserByUsername('finance')!;
const memberSub = demoUserByUsername('other')!.sub;

const EXPECT: Record<string, Expectation> = {
  'GET /me': { signedIn: true, probe: () => ({ path: '/me' }) },
  'GET /permission-tree': { signedIn: true, probe: () => ({ path: '/permission-tree' }) },
  'GET /vdcs': { allow: ALL, probe: () => ({ path: '/vdcs' }) },
  'POST /tickets': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: () => ({ path: '/tickets', body: { type: 'quota-change' } }) },
  'GET /tickets': { signedIn: true, probe: () => ({ path: '/tickets' }) },
  'GET /tickets/:id': { allow: [OPS, MAINT, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/tickets/${f.ticket}` }) },
  'POST /tickets/:id/decisions': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/tickets/${f.ticket}/decisions`, body: { decision: 'maybe' } }) },
  'POST /tickets/:id/cancel': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/tickets/${f.ticket}/cancel`, body: { reason: 5 } }) },
  'GET /tickets/:id/timeline': { allow: [OPS, MAINT, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/tickets/${f.ticket}/timeline` }) },
  'GET /delegated-tickets/:id': { signedIn: true, probe: (f) => ({ path: `/delegated-tickets/${f.ticket}` }) },
  'POST /delegated-tickets/:id/decisions': {
    signedIn: true,
    probe: (f) => ({ path: `/delegated-tickets/${f.ticket}/decisions`, body: { decision: 'maybe' } }),
  },
  'GET /tickets/:id/join-command': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/tickets/${f.ticket}/join-command` }) },
  'GET /tickets/:id/join-status': { allow: [OPS, MAINT, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/tickets/${f.ticket}/join-status` }) },
  'GET /audit': { allow: [OPS], probe: () => ({ path: '/audit?limit=1' }) },
  'GET /audit/export': { allow: [OPS], probe: () => ({ path: '/audit/export?format=jsonl' }) },
  'POST /audit/verify': { allow: [OPS], probe: () => ({ path: '/audit/verify', body: {} }) },
  'POST /tokens': { signedIn: true, probe: () => ({ path: '/tokens', body: { name: '' } }) },
  'GET /tokens': { signedIn: true, probe: () => ({ path: '/tokens' }) },
  'DELETE /tokens/:id': { signedIn: true, probe: () => ({ path: '/tokens/does-not-exist' }) },
  'GET /ip-lists': { allow: [OPS], probe: () => ({ path: '/ip-lists' }) },
  'PUT /ip-lists': { allow: [OPS], probe: () => ({ path: '/ip-lists', body: { allow: ['not-a-cidr'], deny: [] } }) },
  'PUT /users/:sub/cert-subject': { allow: [OPS], probe: () => ({ path: `/users/${memberSub}/cert-subject`, body: { subject: 5 } }) },
  'GET /domains': { allow: [OPS, MAINT, DOMAIN, FIN], probe: () => ({ path: '/domains' }) },
  'POST /domains': { allow: [OPS], probe: () => ({ path: '/domains', body: { id: 'Not A Label' } }) },
  'GET /domains/:id': { allow: [OPS, MAINT, DOMAIN, FIN], probe: (f) => ({ path: `/domains/${f.domain}` }) },
  'DELETE /domains/:id': { allow: [OPS], probe: (f) => ({ path: `/domains/${f.domain}` }) },
  'POST /domains/:id/vdcs': { allow: [OPS, DOMAIN], probe: (f) => ({ path: `/domains/${f.domain}/vdcs`, body: { id: 'Not A Label' } }) },
  'GET /vdcs/:id': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}` }) },
  'GET /vdcs/:id/pools': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/pools` }) },
  'DELETE /vdcs/:id': { allow: [OPS, DOMAIN], probe: (f) => ({ path: `/vdcs/${f.vdc}` }) },
  'POST /vdcs/:id/provision': { allow: [OPS, DOMAIN], probe: (f) => ({ path: `/vdcs/${f.vdc}/provision`, body: { bogus: 1 } }) },
  'GET /vdcs/:id/pull-credential': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/pull-credential` }) },
  'POST /vdcs/:id/pull-credential/rotate': {
    allow: [OPS, DOMAIN, VDCA],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/pull-credential/rotate`, body: { bogus: 1 } }),
  },
  'PUT /vdcs/:id/budget': { allow: [OPS, DOMAIN], probe: (f) => ({ path: `/vdcs/${f.vdc}/budget`, body: { monthlyBudget: { amount: 'lots' } } }) },
  'PUT /vdcs/:id/labels': { allow: [OPS, DOMAIN], probe: (f) => ({ path: `/vdcs/${f.vdc}/labels`, body: { labels: { 'Not A Key!': 'x' } } }) },
  'GET /vdcs/:id/members': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/members` }) },
  'PUT /vdcs/:id/members/:sub': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/vdcs/${f.vdc}/members/${memberSub}`, body: { roles: 'vdc-user' } }) },
  'DELETE /vdcs/:id/members/:sub': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/vdcs/${f.vdc}/members/${memberSub}` }) },
  'POST /vdcs/:id/members': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/vdcs/${f.vdc}/members`, body: { user: 'not a user', roles: [] } }) },
  'DELETE /vdcs/:id/pending-members/:email': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/vdcs/${f.vdc}/pending-members/nobody@example.invalid` }) },
  'GET /users/search': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/users/search?vdc=${f.vdc}&q=fin` }) },
  'POST /bindings': { allow: [OPS], probe: () => ({ path: '/bindings', body: { user: 5 } }) },
  'GET /users': { allow: [OPS], probe: () => ({ path: '/users' }) },
  'PUT /users/:sub/bindings': { allow: [OPS], probe: () => ({ path: `/users/${memberSub}/bindings`, body: { bindings: 'none' } }) },
  'GET /roles': { signedIn: true, probe: () => ({ path: '/roles' }) },
  'POST /roles': { allow: [OPS], probe: () => ({ path: '/roles', body: { id: 'Not A Slug' } }) },
  'PATCH /roles/:id': { allow: [OPS], probe: () => ({ path: `/roles/${customRole}`, body: { permissions: ['no:such'] } }) },
  'DELETE /roles/:id': { allow: [OPS], probe: () => ({ path: `/roles/${customRole}` }) },
  'GET /harbor-registries': { allow: [OPS], probe: () => ({ path: '/harbor-registries' }) },
  'POST /harbor-registries': { allow: [OPS], probe: () => ({ path: '/harbor-registries', body: { id: 'Not A Label' } }) },
  'GET /harbor-registries/:id': { allow: [OPS], probe: () => ({ path: '/harbor-registries/probe?unknown=1' }) },
  'GET /harbor-registries/:id/browse': { allow: [OPS], probe: () => ({ path: '/harbor-registries/probe/browse?project=NOT%20VALID' }) },
  'DELETE /harbor-registries/:id': { allow: [OPS], probe: () => ({ path: '/harbor-registries/probe', body: { unknown: 1 } }) },
  'GET /pools': { allow: [OPS, MAINT], probe: () => ({ path: '/pools' }) },
  'POST /pools': { allow: [OPS, MAINT], probe: () => ({ path: '/pools', body: { id: 'Not A Label' } }) },
  'GET /pools/:id': { allow: [OPS, MAINT], probe: () => ({ path: `/pools/${pool}` }) },
  'GET /pools/:id/nodes': { allow: [OPS, MAINT], probe: () => ({ path: `/pools/${pool}/nodes` }) },
  'GET /pools/:id/vdcs': { allow: [OPS, MAINT], probe: () => ({ path: `/pools/${pool}/vdcs` }) },
  'POST /pools/:id/nodes/:name/cordon': { allow: [OPS, MAINT], probe: () => ({ path: `/pools/${pool}/nodes/edge-amd64-1/cordon`, body: { unknown: 1 } }) },
  'POST /pools/:id/nodes/:name/uncordon': { allow: [OPS, MAINT], probe: () => ({ path: `/pools/${pool}/nodes/edge-amd64-1/uncordon`, body: { unknown: 1 } }) },
  'DELETE /pools/:id': { allow: [OPS, MAINT], probe: () => ({ path: `/pools/${pool}` }) },
  'GET /pricebook': { allow: [OPS, DOMAIN, VDCA, FIN], probe: () => ({ path: '/pricebook' }) },
  'POST /pricebook': { allow: [OPS], probe: () => ({ path: '/pricebook', body: { prices: 'none' } }) },
  'POST /ledger/verify': { allow: [OPS, FIN], probe: () => ({ path: '/ledger/verify', body: { vdcIds: 5 } }) },
  'GET /reports/vdcs/:id': { allow: [OPS, DOMAIN, VDCA, FIN], probe: (f) => ({ path: `/reports/vdcs/${f.vdc}?month=2020-01` }) },
  'GET /reports/domains/:id': { allow: [OPS, DOMAIN, FIN], probe: (f) => ({ path: `/reports/domains/${f.domain}?month=2020-01` }) },
  'GET /reports/pools/:id': { allow: [OPS, FIN], probe: () => ({ path: `/reports/pools/${pool}?month=2020-01` }) },
  'GET /reports/platform': { allow: [OPS, FIN], probe: () => ({ path: '/reports/platform?month=2020-01' }) },
  'POST /ledger/voids': { allow: [OPS, FIN], probe: () => ({ path: '/ledger/voids', body: { lineId: 'not a line', reason: '' } }) },
  'GET /ledger/verifications': { allow: [OPS, FIN], probe: () => ({ path: '/ledger/verifications?limit=1' }) },
  'GET /reports/labels': { allow: [OPS, FIN], probe: () => ({ path: '/reports/labels?month=2020-01&label=cost-center=none' }) },
  'GET /delegations': { allow: [OPS, DOMAIN, VDCA], probe: () => ({ path: '/delegations' }) },
  'PUT /delegations': { allow: [OPS, DOMAIN, VDCA], probe: () => ({ path: '/delegations', body: { delegateSub: 5 } }) },
  'POST /pricebook/what-if': { allow: [OPS, FIN], probe: () => ({ path: '/pricebook/what-if', body: { from: 'soon' } }) },
  'POST /reports/jobs': {
    allow: [OPS, DOMAIN, VDCA, FIN],
    probe: (f) => ({ path: '/reports/jobs', body: { scope: 'vdc', id: f.vdc, from: '2020-01-01', to: '2020-02-01', kind: 'chargeback', format: 'csv' } }),
  },
  // The fixture's job was requested by opsadmin: besides the requester only platform report readers see it.
  'GET /reports/jobs/:id': { allow: [OPS, FIN], probe: (f) => ({ path: `/reports/jobs/${f.job}` }) },
  'GET /reports/jobs/:id/download': { allow: [OPS, FIN], probe: (f) => ({ path: `/reports/jobs/${f.job}/download` }) },
  'DELETE /delegations/:id': { allow: [OPS, DOMAIN, VDCA], probe: () => ({ path: '/delegations/00000000-0000-4000-8000-000000000000' }) },
  'GET /registry/token': { signedIn: true, probe: () => ({ path: '/registry/token?service=edgeport-registry&scope=repository:public/probe:pull' }) },
  'GET /images': { signedIn: true, probe: () => ({ path: '/images' }) },
  'GET /images/detail': { signedIn: true, probe: () => ({ path: '/images/detail?repository=public/probe' }) },
  'POST /images/scans': { signedIn: true, probe: () => ({ path: '/images/scans', body: { repository: 'public/probe' } }) },
  'DELETE /images/tags': { signedIn: true, probe: () => ({ path: '/images/tags?repository=public/probe' }) },
  'DELETE /images/repositories': { signedIn: true, probe: () => ({ path: '/images/repositories?repository=NOT%20VALID' }) },
  'GET /images/categories': { signedIn: true, probe: () => ({ path: '/images/categories' }) },
  'POST /images/categories': { signedIn: true, probe: () => ({ path: '/images/categories', body: { name: 5 } }) },
  'PATCH /images/categories/:id': { signedIn: true, probe: () => ({ path: '/images/categories/cat-000000000000', body: { name: 5 } }) },
  'DELETE /images/categories/:id': { signedIn: true, probe: () => ({ path: '/images/categories/cat-000000000000' }) },
  'PUT /images/repository-categories': { signedIn: true, probe: () => ({ path: '/images/repository-categories', body: { repository: 'NOT VALID' } }) },
  'GET /vdcs/:id/security-groups': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups` }) },
  'POST /vdcs/:id/security-groups': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups`, body: { name: 'NOT VALID' } }) },
  'GET /vdcs/:id/security-groups/:gid': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups/${probeGroup(f.vdc)}` }) },
  'PUT /vdcs/:id/security-groups/:gid': {
    allow: [OPS, DOMAIN, VDCA],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups/${probeGroup(f.vdc)}`, body: { rules: 5 } }),
  },
  // The probe group is a peer of another group's rules, so deleting it is refused (409) and it stays for the next role.
  'DELETE /vdcs/:id/security-groups/:gid': { allow: [OPS, DOMAIN, VDCA], probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups/${probeGroup(f.vdc)}` }) },
  'POST /vdcs/:id/security-groups/:gid/members': {
    allow: [OPS, DOMAIN, VDCA],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups/${probeGroup(f.vdc)}/members`, body: { add: 5 } }),
  },
  'GET /vdcs/:id/security-groups/:gid/policies': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/security-groups/${probeGroup(f.vdc)}/policies` }) },
  'GET /vdcs/:id/volumes': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/volumes` }) },
  'POST /vdcs/:id/volumes': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/volumes`, body: { name: 'NOT VALID' } }) },
  'POST /vdcs/:id/volumes/:name/expand': {
    allow: [OPS, DOMAIN, VDCA, VDCU],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/volumes/probe-data/expand`, body: { size: 'big' } }),
  },
  // probe-data belongs to the fixture's recorded workload, so the volume API refuses to delete it (409) and it stays.
  'DELETE /vdcs/:id/volumes/:name': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/volumes/probe-data` }) },
  'GET /vdcs/:id/network-defaults': { allow: ALL, probe: (f) => ({ path: `/vdcs/${f.vdc}/network-defaults` }) },
  'PUT /vdcs/:id/network-defaults/:space': {
    allow: [OPS, DOMAIN, VDCA],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/network-defaults/probe`, body: { policy: 'maybe' } }),
  },
  'GET /openapi.json': { signedIn: true, probe: () => ({ path: '/openapi.json' }) },
  'GET /vdcs/:id/configmaps': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/configmaps` }) },
  'POST /vdcs/:id/configmaps': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/configmaps`, body: { entries: 5 } }) },
  // An invalid space is refused (400) before the item is looked up: allowed roles get past the permission check.
  'GET /vdcs/:id/configmaps/:name': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/configmaps/probe?space=NOT_VALID` }) },
  'PUT /vdcs/:id/configmaps/:name': {
    allow: [OPS, DOMAIN, VDCA, VDCU],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/configmaps/probe?space=NOT_VALID`, body: { entries: 5 } }),
  },
  'DELETE /vdcs/:id/configmaps/:name': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/configmaps/probe?space=NOT_VALID` }) },
  'GET /vdcs/:id/secrets': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/secrets` }) },
  'POST /vdcs/:id/secrets': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/secrets`, body: { entries: 5 } }) },
  // An invalid space is refused (400) before the item is looked up: allowed roles get past the permission check.
  'GET /vdcs/:id/secrets/:name': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/secrets/probe?space=NOT_VALID` }) },
  'PUT /vdcs/:id/secrets/:name': {
    allow: [OPS, DOMAIN, VDCA, VDCU],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/secrets/probe?space=NOT_VALID`, body: { entries: 5 } }),
  },
  'DELETE /vdcs/:id/secrets/:name': { allow: [OPS, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/secrets/probe?space=NOT_VALID` }) },
  'GET /vdcs/:id/edge-nodes': { allow: [OPS, MAINT, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/edge-nodes` }) },
  'GET /vdcs/:id/workloads': { allow: [OPS, MAINT, DOMAIN, VDCA, VDCU], probe: (f) => ({ path: `/vdcs/${f.vdc}/workloads` }) },
  // Invalid query / body is refused (400) before the workload is looked up: allowed roles get past the permission check.
  'GET /vdcs/:id/workloads/:namespace/:name': {
    allow: [OPS, MAINT, DOMAIN, VDCA, VDCU],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/workloads/probe/probe?eventLimit=0` }),
  },
  'GET /vdcs/:id/workloads/:namespace/:name/logs': {
    allow: [OPS, MAINT, DOMAIN, VDCA, VDCU],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/workloads/probe/probe/logs?tailLines=0` }),
  },
  'POST /vdcs/:id/workloads/:namespace/:name/operations': {
    allow: [OPS, DOMAIN, VDCA, VDCU],
    probe: (f) => ({ path: `/vdcs/${f.vdc}/workloads/probe/probe/operations`, body: { operation: { op: 'explode' } } }),
  },
};

const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
let store: Store;
let routes: RouteDef[];
let apiRouterPaths: string[];
let api: AppProcess;
let worker: AppProcess;
let cookie = '';
const own: Fixture = { domain: '', vdc: '', ticket: '', job: '' };
const other: Fixture = { domain: '', vdc: '', ticket: '', job: '' };

let lastBody = '';
const key = (r: { method: string; path: string }): string => `${r.method.toUpperCase()} ${r.path}`;

function bindingFor(role: Role, f: Fixture): RoleBinding {
  if (PLATFORM_BOUND.has(role)) return { role, scope: { type: 'platform' } };
  if (role === DOMAIN) return { role, scope: { type: 'domain', domainId: f.domain } };
  return { role, scope: { type: 'vdc', vdcId: f.vdc } };
}

async function setBindings(bindings: RoleBinding[]): Promise<void> {
  await store.testing.collection('users').updateOne({ _id: subject.sub as never }, { $set: { bindings } });
}

async function call(method: string, probe: Probe): Promise<number> {
  const res = await fetch(`${base}/api${probe.path}`, {
    // fetch upper-cases only the standard methods; a lowercase "patch" would reach the server as is.
    method: method.toUpperCase(),
    headers: { cookie, ...(probe.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: probe.body === undefined ? undefined : JSON.stringify(probe.body),
  });
  lastBody = (await res.text()).slice(0, 300);
  // Every answer, allowed or refused, carries the browser security headers (issue 19).
  expect(res.headers.get('content-security-policy'), `${method} ${probe.path}`).toBe(CONTENT_SECURITY_POLICY);
  return res.status;
}

async function fixture(tag: string, opsCookie: string): Promise<Fixture> {
  const domain = uniqueName(`rp${tag}`);
  await store.domains.create({ _id: domain, name: domain });
  const vdc = uniqueName(`rp${tag}`);
  await seedVdc(store, createKubeClients(stackEnv('EDGEPORT_KUBECONFIG')), { id: vdc, name: vdc, domainId: domain, quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  await grant(store, demoUserByUsername('other')!, [{ role: VDCU, scope: { type: 'vdc', vdcId: vdc } }]);
  const now = new Date().toISOString();
  const groups = store.network;
  await groups.insert({ id: probeGroup(vdc), vdcId: vdc, name: 'probe', rules: [], members: [], revision: 1, createdAt: now, updatedAt: now });
  await store.workloads.recordRevision({
    vdcId: vdc,
    namespace: `vdc-${vdc}`,
    name: 'probe',
    kind: 'StatefulSet',
    revision: 1,
    spec: {
      kind: 'StatefulSet',
      name: 'probe',
      replicas: 1,
      containers: [{ name: 'c', image: 'registry.invalid/probe:1' }],
      volumes: [{ name: 'probe-data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
    } as never,
    ticketId: 'probe',
  });
  await groups.insert({
    id: probeGroup(`${vdc}/peer`),
    vdcId: vdc,
    name: 'probe-peer',
    rules: [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'group', group: probeGroup(vdc) } }],
    members: [],
    revision: 1,
    createdAt: now,
    updatedAt: now,
  });
  const res = await fetch(`${base}/api/tickets`, {
    method: 'POST',
    headers: { cookie: opsCookie, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'quota-change', vdcId: vdc, quota: { cpu: 5 } }),
  });
  expect(res.status).toBe(201);
  const ticket = ((await res.json()) as { id: string }).id;
  const job = await fetch(`${base}/api/reports/jobs`, {
    method: 'POST',
    headers: { cookie: opsCookie, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'vdc', id: vdc, from: '2020-01-01', to: '2020-02-01', kind: 'chargeback', format: 'csv' }),
  });
  expect(job.status).toBe(202);
  const jobId = ((await job.json()) as { id: string }).id;
  for (let i = 0; i < 200; i++) {
    const s = (await (await fetch(`${base}/api/reports/jobs/${jobId}`, { headers: { cookie: opsCookie } })).json()) as { state: string };
    if (s.state === 'done') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return { domain, vdc, ticket, job: jobId };
}

/** The subject's bindings before this file ran, restored afterwards so other test files see the seed. */
let originalBindings: RoleBinding[] = [];

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  originalBindings = await store.users.bindings(subject.sub);
  const env = appEnvFromProcess();
  [worker, api] = [startApp(repoDir, 'worker', env), startApp(repoDir, 'api', env)];
  // Generous waits: on a loaded shared machine the worker's bundling delays the api's start-up past a minute.
  await Promise.all([waitForWorker(worker, 300_000), waitForApi(api, base, 300_000)]);
  const opsCookie = await loginAs(base, 'opsadmin', demoUserByUsername('opsadmin')!.password);
  Object.assign(own, await fixture('o', opsCookie));
  Object.assign(other, await fixture('x', opsCookie));
  customRole = `custom:${uniqueName('rp')}`;
  await store.roles.create({ _id: customRole as `custom:${string}`, name: 'probe', baseRole: VDCU, permissions: ['vdc:read'], createdBy: 'test' });
  await grant(store, demoUserByUsername('tenant')!, [{ role: customRole as `custom:${string}`, scope: { type: 'vdc', vdcId: own.vdc } }]);
  cookie = await loginAs(base, subject.username, subject.password);

  // The routes as mounted by a real app instance, to catch anything mounted outside the declarations.
  const config = loadApiConfig(process.env);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  try {
    const built = await createApp({
      config,
      store,
      temporal: new Client({ connection, namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE') }),
      redis,
      log: pino({ level: 'silent' }),
    });
    routes = built.routes;
    await built.close();
    apiRouterPaths = (built.apiRouter.stack as { route?: { path: string; methods: Record<string, boolean> } }[])
      .filter((l) => l.route)
      .flatMap((l) =>
        Object.keys(l.route!.methods)
          .filter((m) => m !== '_all')
          .map((m) => key({ method: m, path: l.route!.path })),
      );
  } finally {
    redis.disconnect();
    await connection.close();
  }
}, 600_000);

afterAll(async () => {
  await setBindings(originalBindings).catch(() => undefined);
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('route × role × scope permission matrix', () => {
  it('every mounted /api route is declared, and every declared route has an expectation here', () => {
    const declared = routes.map(key).sort();
    expect([...apiRouterPaths].sort()).toEqual(declared);
    expect(Object.keys(EXPECT).sort()).toEqual(declared);
  });

  it('without any role, only the signed-in routes answer', async () => {
    await setBindings([]);
    for (const r of routes) {
      const e = EXPECT[key(r)]!;
      const status = await call(r.method, e.probe(own));
      if ('signedIn' in e) expect([401, 403], key(r)).not.toContain(status);
      else expect([403, 404], `${key(r)} → ${status} ${lastBody}`).toContain(status);
    }
  });

  it.each(ALL)('%s: allowed exactly where the table says, in its own scope and in another', async (role) => {
    const mismatches: string[] = [];
    for (const r of routes) {
      const e = EXPECT[key(r)]!;
      for (const [scopeName, f] of [
        ['own', own],
        ['other', other],
      ] as const) {
        await setBindings([bindingFor(role, own)]);
        await grant(store, demoUserByUsername('other')!, [{ role: VDCU, scope: { type: 'vdc', vdcId: f.vdc } }]);
        const status = await call(r.method, e.probe(f));
        const denied = status === 401 || status === 403 || status === 404;
        let expected: boolean;
        if ('signedIn' in e) expected = true;
        else if (r.target === 'any' || r.target === 'platform' || PLATFORM_BOUND.has(role) || scopeName === 'own') expected = e.allow.includes(role);
        else expected = false;
        if ('signedIn' in e) {
          if (status === 401 || status === 403) mismatches.push(`${key(r)} ${scopeName}: signed-in route answered ${status}`);
        } else if (denied === expected) {
          mismatches.push(`${key(r)} ${scopeName}: expected ${expected ? 'allow' : 'deny'}, got ${status}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});
