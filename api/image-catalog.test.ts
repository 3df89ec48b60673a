import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { cosignSignatureTag } from '../infra/registry/driver.ts';
import { createRegistryRuntime, type RegistryRuntime } from '../infra/registry/runtime.ts';
import type { ImageRepositoryView } from '../common/images.ts';
import { ALL_PERMISSIONS } from '../common/permissions.ts';
import { ROLES } from '../common/roles.ts';
import type { TicketView } from '../common/tickets.ts';
import type { WorkloadPreview } from '../common/workload.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { buildImage, pushImage } from '../stack/testing/oci-image.ts';
import type { ImageCategoryView } from '../store/image-categories.ts';
import { openStore, type Store } from '../store/index.ts';
import { redisConnection } from '../infra/redis.ts';
import { IMAGE_JOBS_QUEUE } from '../worker/image-jobs.ts';
import { loginAs } from './auth/test-login.ts';
import type { ImageDetailView } from './services/images.ts';

/**
 * Scan on push (the registry's notification to the API), categories, signatures in the listing and the deploy
 * image rules at submit and at preflight, over HTTP against real api + worker processes, the real registry,
 * MongoDB, Temporal and the stack's cluster.
 */
const repoDir = new URL('..', import.meta.url).pathname;
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const registryPort = new URL(stackEnv('EDGEPORT_REGISTRY_URL')).port;
let api: AppProcess;
let worker: AppProcess;
let store: Store;
let rt: RegistryRuntime;
const vdc = uniqueName('cat');
const otherVdc = uniqueName('cato');
const tokens: Record<string, string> = {};
const DPKG = (pkgs: [string, string][]): string => pkgs.map(([p, v]) => `Package: ${p}\nStatus: install ok installed\nVersion: ${v}\n`).join('\n');
const clean = [{ 'var/lib/dpkg/status': DPKG([['openssl', '3.0.15-1~deb12u1']]) }];

async function call<T>(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[user]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function createToken(user: string, permissions: readonly string[]): Promise<string> {
  const cookie = await loginAs(base, user, demoUserByUsername(user)!.password);
  const res = await fetch(`${base}/api/tokens`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ name: uniqueName('cat'), permissions, expiresInDays: 1 }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  rt = createRegistryRuntime({
    url: stackEnv('EDGEPORT_REGISTRY_URL'),
    tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
    tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
  });
  const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
  const domain = uniqueName('catd');
  await store.domains.create({ _id: domain, name: domain });
  for (const id of [vdc, otherVdc]) await seedVdc(store, kube, { id, name: id, domainId: domain, quota: { cpu: 2, memoryGi: 4, pods: 10 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: ROLES.vdcUser, scope: { type: 'vdc', vdcId: vdc } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: ROLES.vdcAdmin, scope: { type: 'vdc', vdcId: vdc } }]);
  await grant(store, demoUserByUsername('other')!, [{ role: ROLES.vdcAdmin, scope: { type: 'vdc', vdcId: otherVdc } }]);
  const env = appEnvFromProcess();
  api = startApp(repoDir, 'api', env);
  await waitForApi(api, base, 180_000);
  worker = startApp(repoDir, 'worker', env);
  await waitForWorker(worker, 240_000);
  tokens.tenant = await createToken('tenant', ['vdc:read', 'ticket:create', 'ticket:read']);
  tokens.vdcadmin = await createToken('vdcadmin', ['vdc:read', 'ticket:read', 'ticket:decide']);
  tokens.other = await createToken('other', ['vdc:read', 'ticket:read', 'ticket:decide']);
  tokens.opsadmin = await createToken('opsadmin', ALL_PERMISSIONS);
}, 480_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('scan on push', () => {
  it('the registry notifies the API of a push and the worker scans the pushed digest; the hook needs the shared secret', async () => {
    const unauth = await fetch(`${base}/hooks/registry/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
      body: JSON.stringify({ events: [] }),
    });
    expect(unauth.status).toBe(401);
    const wrong = await fetch(`${base}/hooks/registry/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-edgeport-registry-secret': 'not-the-secret' },
      body: '{"events":[]}',
    });
    expect(wrong.status).toBe(401);

    const t0 = Date.now();
    const { digest } = await pushImage(rt.driver, `vdc-${vdc}/pushed`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: clean }));
    const scan = await until('scan on push', async () => {
      const d = await call<ImageDetailView>('tenant', 'GET', `/images/detail?repository=vdc-${vdc}/pushed&reference=v1`);
      return d.status === 200 && d.body.scan ? d.body.scan : undefined;
    });
    console.log(`scan on push: stored ${Date.now() - t0} ms after the push`);
    expect(scan).toMatchObject({ digest, severity: 'None', packages: { debian: 1 } });
  }, 180_000);
});

describe('scheduled image jobs', () => {
  it('the worker keeps one BullMQ job scheduler each for the whole-registry rescan and the metering sample', async () => {
    const queue = new Queue(IMAGE_JOBS_QUEUE, { connection: redisConnection(stackEnv('EDGEPORT_REDIS_URL')) });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.every]).sort()).toEqual([
        ['image-metering', 60 * 60_000],
        ['image-rescan', 1440 * 60_000],
      ]);
    } finally {
      await queue.close();
    }
  });
});

describe('signatures and scan summary in the listing', () => {
  it('a tag shows signed once a cosign signature tag of its digest is pushed; signature tags are not listed', async () => {
    const repo = `vdc-${vdc}/pushed`;
    const listed = async () => (await call<{ items: ImageRepositoryView[] }>('tenant', 'GET', `/images?vdcId=${vdc}`)).body.items.find((r) => r.name === repo)!;
    const before = await listed();
    expect(before.tags.map((t) => [t.tag, t.signed, t.scan?.severity])).toEqual([['v1', false, 'None']]);
    await pushImage(rt.driver, repo, cosignSignatureTag(before.tags[0]!.digest), buildImage({ archs: ['amd64'], layers: [{ 'sig.json': '{}' }] }));
    const after = await listed();
    expect(after.tags.map((t) => [t.tag, t.signed])).toEqual([['v1', true]]);
  }, 60_000);
});

describe('categories', () => {
  it('VDC admins manage their VDC categories, operations admins platform ones; members see them; others get 404', async () => {
    const name = uniqueName('web');
    expect((await call('tenant', 'POST', '/images/categories', { name, vdcId: vdc })).status).toBe(403);
    expect((await call('vdcadmin', 'POST', '/images/categories', { name })).status).toBe(403);
    expect((await call('other', 'POST', '/images/categories', { name, vdcId: vdc })).status).toBe(400);
    const mine = await call<ImageCategoryView>('vdcadmin', 'POST', '/images/categories', { name, vdcId: vdc });
    expect(mine.status).toBe(201);
    expect((await call('vdcadmin', 'POST', '/images/categories', { name, vdcId: vdc })).status).toBe(409);
    const platform = await call<ImageCategoryView>('opsadmin', 'POST', '/images/categories', { name: uniqueName('base') });
    expect(platform.status).toBe(201);
    expect((await call('vdcadmin', 'POST', '/images/categories', { name: '' })).status).toBe(400);

    // Assigning: whoever manages the repository; a VDC category holds only that VDC's repositories.
    const repo = `vdc-${vdc}/pushed`;
    expect((await call('tenant', 'PUT', '/images/repository-categories', { repository: repo, categoryIds: [mine.body.id] })).status).toBe(404);
    expect((await call('other', 'PUT', '/images/repository-categories', { repository: repo, categoryIds: [] })).status).toBe(404);
    const set = await call<{ items: ImageCategoryView[] }>('vdcadmin', 'PUT', '/images/repository-categories', {
      repository: repo,
      categoryIds: [mine.body.id, platform.body.id],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.items.map((c) => c.id).sort()).toEqual([mine.body.id, platform.body.id].sort());
    const otherCat = await call<ImageCategoryView>('other', 'POST', '/images/categories', { name: uniqueName('x'), vdcId: otherVdc });
    const cross = await call<{ errors: { field: string }[] }>('opsadmin', 'PUT', '/images/repository-categories', {
      repository: repo,
      categoryIds: [otherCat.body.id],
    });
    expect(cross.status).toBe(400);
    expect(cross.body.errors[0]!.field).toBe('categoryIds[0]');

    const seen = (await call<{ items: ImageCategoryView[] }>('tenant', 'GET', '/images/categories')).body.items;
    expect(seen.find((c) => c.id === mine.body.id)?.repositories).toEqual([repo]);
    expect(seen.find((c) => c.id === platform.body.id)?.repositories).toEqual([repo]);
    expect(seen.some((c) => c.id === otherCat.body.id)).toBe(false);
    // Another VDC's admin sees the platform category but not this VDC's repository in it, nor this VDC's category.
    const theirs = (await call<{ items: ImageCategoryView[] }>('other', 'GET', '/images/categories')).body.items;
    expect(theirs.find((c) => c.id === platform.body.id)?.repositories).toEqual([]);
    expect(theirs.some((c) => c.id === mine.body.id)).toBe(false);
    expect((await call('other', 'PATCH', `/images/categories/${mine.body.id}`, { name: 'x' })).status).toBe(404);
    expect((await call('other', 'GET', `/images/categories?vdcId=${vdc}`)).status).toBe(404);

    const renamed = await call<ImageCategoryView>('vdcadmin', 'PATCH', `/images/categories/${mine.body.id}`, { name: `${name}-2` });
    expect(renamed.body.name).toBe(`${name}-2`);
    expect((await call('tenant', 'DELETE', `/images/categories/${mine.body.id}`)).status).toBe(403);
    expect((await call('vdcadmin', 'DELETE', `/images/categories/${platform.body.id}`)).status).toBe(403);
    expect((await call('vdcadmin', 'DELETE', `/images/categories/${mine.body.id}`)).status).toBe(204);
    expect((await call('vdcadmin', 'PATCH', `/images/categories/${mine.body.id}`, { name: 'gone' })).status).toBe(404);

    const audit = await store.testing
      .collection('audit_entries')
      .find({ action: { $regex: '^image\\.(category|repository)' }, target: { $in: [`image-category:${mine.body.id}`, `image:${repo}`] } })
      .toArray();
    expect(audit.map((a) => a.action).sort()).toEqual([
      'image.category.create',
      'image.category.delete',
      'image.category.rename',
      'image.repository.categories',
    ]);
  }, 120_000);
});

describe('deploy image rules', () => {
  const deploy = (image: string, extra: Record<string, unknown> = {}) =>
    call<TicketView & { errors?: { field: string; message: string }[] }>('tenant', 'POST', '/tickets', {
      type: 'workload-deploy',
      vdcId: vdc,
      workload: {
        kind: 'Deployment',
        name: uniqueName('w').slice(0, 30),
        replicas: 1,
        containers: [{ name: 'app', image, requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } }],
        ...extra,
      },
    });

  it('submit refuses an image of the registry that was never scanned (422 naming the image field); nothing is stored', async () => {
    // Pushed by digest only (no tag): the registry sends no tagged push event, so nothing scans it.
    const image = buildImage({ archs: ['amd64'], layers: [{ 'var/lib/dpkg/status': DPKG([['bash', '5.2.15-2']]) }] });
    await pushImage(rt.driver, `vdc-${vdc}/unscanned`, image.top.digest, image);
    const before = await store.testing.collection('tickets').countDocuments({ 'vdc.id': vdc });
    const res = await deploy(`localhost:${registryPort}/vdc-${vdc}/unscanned@${image.top.digest}`);
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]).toMatchObject({ field: 'workload.containers[0].image' });
    expect(res.body.errors?.[0]?.message).toMatch(/image rule image-scan: .*no scan result/);
    expect(await store.testing.collection('tickets').countDocuments({ 'vdc.id': vdc })).toBe(before);
    // Another VDC's private image is refused too; an external image passes the image rules (allowed by default).
    expect((await deploy(`localhost:${registryPort}/vdc-${otherVdc}/x:v1`)).body.errors?.[0]?.message).toMatch(/image rule image-other-vdc/);
  }, 60_000);

  it('preflight refuses an image that lacks an architecture of the pool; pinned to amd64 nodes it passes preflight', async () => {
    await pushImage(rt.driver, `vdc-${vdc}/amdonly`, 'v1', buildImage({ archs: ['amd64'], layers: clean }));
    await until('scan on push of amdonly', async () =>
      (await call<ImageDetailView>('tenant', 'GET', `/images/detail?repository=vdc-${vdc}/amdonly&reference=v1`)).body.scan ? true : undefined,
    );
    const ref = `localhost:${registryPort}/vdc-${vdc}/amdonly:v1`;
    const submitted = await deploy(ref);
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const failed = await until('preflight', async () => {
      const t = (await call<TicketView>('tenant', 'GET', `/tickets/${submitted.body.id}`)).body;
      return t.status === 'submitted' ? undefined : t;
    });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/workload\.containers\[0\]\.image: image rule image-arch: .*has no arm64 image \(it has amd64\)/);

    const pinned = await deploy(ref, { nodeSelector: { 'kubernetes.io/arch': 'amd64' } });
    expect(pinned.status).toBe(201);
    const pending = await until('preflight (pinned)', async () => {
      const t = (await call<TicketView>('tenant', 'GET', `/tickets/${pinned.body.id}`)).body;
      return t.status === 'submitted' ? undefined : t;
    });
    expect(pending.status, pending.error).toBe('pending_approval');
    expect((pending.preview as WorkloadPreview).errors).toEqual([]);
    await call('tenant', 'POST', `/tickets/${pinned.body.id}/cancel`, {});
  }, 240_000);
});
