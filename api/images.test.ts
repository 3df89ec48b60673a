import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { ImagePublishPreview } from '../common/image-publish.ts';
import type { ImageScanView } from '../common/image-scan.ts';
import { ALL_PERMISSIONS } from '../common/permissions.ts';
import { ROLES } from '../common/roles.ts';
import type { TicketView } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { buildImage, writeOciLayout } from '../stack/testing/oci-image.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';
import type { ImageDetailView } from './services/images.ts';

/**
 * Images over HTTP against real api + worker processes and the real registry: skopeo pushes with API tokens,
 * an image publish ticket submitted and approved through the API (promoted; pulled from the target), a blocked
 * one refused with its findings, image detail with architectures/layers/scan, on-demand scan, deletion rights.
 */
const run = promisify(execFile);
const repoDir = new URL('..', import.meta.url).pathname;
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const registryHost = `localhost:${new URL(stackEnv('EDGEPORT_REGISTRY_URL')).port}`;
let api: AppProcess;
let worker: AppProcess;
let store: Store;
let work: string;
const vdc = uniqueName('img');
const tokens: Record<string, string> = {};

const DPKG = (pkgs: [string, string][]): string => pkgs.map(([p, v]) => `Package: ${p}\nStatus: install ok installed\nVersion: ${v}\n`).join('\n');
const clean: Record<string, string>[] = [
  {
    'var/lib/dpkg/status': DPKG([
      ['openssl', '3.0.15-1~deb12u1'],
      ['bash', '5.2.15-2'],
    ]),
  },
];
const vulnerable: Record<string, string>[] = [{ 'var/lib/dpkg/status': DPKG([['openssl', '3.0.11-1~deb12u2']]) }];

async function push(user: string, repository: string, layers: Record<string, string>[], archs: string[]): Promise<void> {
  const dir = mkdtempSync(join(work, 'layout-'));
  writeOciLayout(dir, buildImage({ archs, layers }), 'v1');
  await run(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--all',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${user}:${tokens[user]}`,
      `oci:${dir}:v1`,
      `docker://${registryHost}/${repository}:v1`,
    ],
    { timeout: 60_000 },
  );
}

async function pull(user: string, ref: string): Promise<boolean> {
  try {
    await run(
      'skopeo',
      [
        '--insecure-policy',
        'copy',
        '--all',
        '--src-tls-verify=false',
        '--src-creds',
        `${user}:${tokens[user]}`,
        `docker://${registryHost}/${ref}`,
        `oci:${mkdtempSync(join(work, 'pull-'))}:x`,
      ],
      { timeout: 60_000 },
    );
    return true;
  } catch {
    return false;
  }
}

async function call<T>(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[user]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function settled(user: string, id: string, until: (t: TicketView) => boolean): Promise<TicketView> {
  for (let i = 0; i < 600; i++) {
    const t = (await call<TicketView>(user, 'GET', `/tickets/${id}`)).body;
    if (until(t)) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`ticket ${id} never settled`);
}

async function createToken(user: string, permissions: readonly string[]): Promise<string> {
  const cookie = await loginAs(base, user, demoUserByUsername(user)!.password);
  const res = await fetch(`${base}/api/tokens`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ name: uniqueName('img'), permissions, expiresInDays: 1 }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgeport-images-'));
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  const domain = uniqueName('imgd');
  await store.domains.create({ _id: domain, name: domain });
  await seedVdc(store, createKubeClients(stackEnv('EDGEPORT_KUBECONFIG')), { id: vdc, name: vdc, domainId: domain, quota: { cpu: 2, memoryGi: 4, pods: 10 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: ROLES.vdcUser, scope: { type: 'vdc', vdcId: vdc } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: ROLES.vdcAdmin, scope: { type: 'vdc', vdcId: vdc } }]);
  const env = appEnvFromProcess();
  // One after the other: on a loaded machine the worker's bundling slows the api's start-up a lot.
  api = startApp(repoDir, 'api', env);
  await waitForApi(api, base, 180_000);
  worker = startApp(repoDir, 'worker', env);
  await waitForWorker(worker, 240_000);
  tokens.tenant = await createToken('tenant', ['vdc:read', 'ticket:create', 'ticket:read']);
  tokens.vdcadmin = await createToken('vdcadmin', ['vdc:read', 'ticket:read', 'ticket:decide']);
  tokens.opsadmin = await createToken('opsadmin', ALL_PERMISSIONS);
}, 480_000);

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('image publish through the API', () => {
  it('a VDC member pushes to staging, submits; the VDC admin approves; the image is promoted by digest and pullable', async () => {
    await push('tenant', `staging-${vdc}/web`, clean, ['amd64', 'arm64']);
    const submitted = await call<TicketView>('tenant', 'POST', '/tickets', {
      type: 'image-publish',
      vdcId: vdc,
      source: { name: 'web', tag: 'v1' },
      target: { visibility: 'private' },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    expect(submitted.body.policy.chain.map((s) => s.role)).toEqual([ROLES.vdcAdmin]);
    const pending = await settled('tenant', submitted.body.id, (t) => t.status !== 'submitted');
    expect(pending.status, pending.error).toBe('pending_approval');
    const preview = pending.preview as ImagePublishPreview;
    expect(preview.scan).toMatchObject({ severity: 'None', packages: { debian: 2 } });
    expect(preview.image?.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64']);

    const decided = await call('vdcadmin', 'POST', `/tickets/${submitted.body.id}/decisions`, { decision: 'approve', previewHash: preview.hash });
    expect(decided.status, JSON.stringify(decided.body)).toBeLessThan(300);
    const done = await settled('tenant', submitted.body.id, (t) => ['completed', 'failed'].includes(t.status));
    expect(done.status, done.error).toBe('completed');
    expect(await pull('tenant', `vdc-${vdc}/web:v1`)).toBe(true);

    const detail = await call<ImageDetailView>('tenant', 'GET', `/images/detail?repository=vdc-${vdc}/web&reference=v1`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      digest: preview.source.digest,
      multiArch: true,
      pullRef: `${new URL(stackEnv('EDGEPORT_REGISTRY_URL')).host}/vdc-${vdc}/web@${preview.source.digest}`,
    });
    expect(detail.body.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64']);
    expect(detail.body.platforms.every((p) => p.layers.length === 1 && p.layers[0]!.size > 0)).toBe(true);
    expect(detail.body.scan?.severity).toBe('None');
  }, 240_000);

  it('a blocked scan refuses promotion with the findings listed; an override is refused to a non-operations-admin', async () => {
    await push('tenant', `staging-${vdc}/bad`, vulnerable, ['amd64']);
    const submitted = await call<TicketView>('tenant', 'POST', '/tickets', {
      type: 'image-publish',
      vdcId: vdc,
      source: { name: 'bad', tag: 'v1' },
      target: { visibility: 'private' },
    });
    expect(submitted.status).toBe(201);
    const done = await settled('tenant', submitted.body.id, (t) => ['failed', 'completed', 'pending_approval'].includes(t.status));
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/promotion blocked: .*DEMO-2026-0001 Critical openssl 3\.0\.11-1~deb12u2/);
    expect((done.preview as ImagePublishPreview).blocking.map((f) => f.id)).toEqual(['DEMO-2026-0001']);
    expect((await call<unknown>('tenant', 'GET', `/images/detail?repository=vdc-${vdc}/bad&reference=v1`)).status).toBe(404);

    const override = await call<{ errors?: { field: string }[] }>('tenant', 'POST', '/tickets', {
      type: 'image-publish',
      vdcId: vdc,
      source: { name: 'bad', tag: 'v1' },
      target: { visibility: 'private' },
      scanOverride: { reason: 'I really want this one' },
    });
    expect(override.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(override.body)).toContain('scanOverride');
    const badBody = await call('tenant', 'POST', '/tickets', {
      type: 'image-publish',
      vdcId: vdc,
      source: { name: 'Bad Name', tag: 'v1' },
      target: { visibility: 'private' },
    });
    expect(badBody.status).toBe(400);
    expect(JSON.stringify(badBody.body)).toContain('source.name');
  }, 240_000);
});

describe('image routes', () => {
  it('scans on demand; deletes only for the VDC admin or an operations admin (404 for others)', async () => {
    await push('tenant', `staging-${vdc}/tmp`, vulnerable, ['arm64']);
    const scan = await call<ImageScanView>('tenant', 'POST', '/images/scans', { repository: `staging-${vdc}/tmp`, reference: 'v1' });
    expect(scan.status, JSON.stringify(scan.body)).toBe(201);
    expect(scan.body).toMatchObject({ severity: 'Critical', platforms: [{ architecture: 'arm64' }], findings: [{ id: 'DEMO-2026-0001', package: 'openssl' }] });
    expect((await call('tenant', 'POST', '/images/scans', { repository: `staging-${vdc}/tmp` })).status).toBe(400);

    expect((await call('tenant', 'DELETE', `/images/tags?repository=staging-${vdc}/tmp&tag=v1`)).status).toBe(404);
    expect((await call('vdcadmin', 'DELETE', `/images/tags?repository=staging-${vdc}/tmp&tag=v1`)).status).toBe(204);
    expect((await call('tenant', 'GET', `/images/detail?repository=staging-${vdc}/tmp&reference=v1`)).status).toBe(404);

    expect((await call('vdcadmin', 'DELETE', `/images/repositories?repository=vdc-${vdc}/web`)).status).toBe(204);
    expect((await call('tenant', 'GET', `/images/detail?repository=vdc-${vdc}/web&reference=v1`)).status).toBe(404);
    expect((await call('vdcadmin', 'DELETE', `/images/repositories?repository=public/anything`)).status).toBe(404);
    expect((await call('opsadmin', 'DELETE', `/images/repositories?repository=staging-${vdc}/bad`)).status).toBe(204);
  }, 240_000);
});
