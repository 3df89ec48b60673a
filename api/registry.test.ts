import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { ImageRepositoryView } from '../common/images.ts';
import { ALL_PERMISSIONS } from '../common/permissions.ts';
import { ROLES } from '../common/roles.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';

/**
 * The local OCI registry (Debian docker-registry) with Edgeport's API as its token service, proven with real
 * pushes and pulls by Debian skopeo using `user:ep_…` API tokens as registry credentials.
 */
const run = promisify(execFile);
let api: TestApi;
let store: Store;
let work: string;
const registryHost = `localhost:${new URL(stackEnv('EDGEPORT_REGISTRY_URL')).port}`;
const vdcA = uniqueName('rega');
const vdcB = uniqueName('regb');
/** API tokens used as registry passwords, by demo username. */
const tokens: Record<string, string> = {};

// ---- a tiny OCI image layout, built by hand ----

function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number): void => void header.write(s.slice(0, len), off, 'ascii');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  put('00000000000\0', 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(body);
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

/** Writes an OCI layout at `dir` with tag `v1`: one image per architecture, wrapped in an index when there are several. */
function ociLayout(dir: string, archs: string[]): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (mediaType: string, data: Buffer): Blob => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  const images = archs.map((architecture) => {
    const tar = tarOf('hello.txt', Buffer.from(`hello from ${architecture} ${randomBytes(8).toString('hex')}\n`));
    const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', gzipSync(tar));
    const config = blob(
      'application/vnd.oci.image.config.v1+json',
      json({
        architecture,
        os: 'linux',
        created: '2026-01-02T03:04:05Z',
        config: {},
        rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] },
      }),
    );
    const manifest = blob(
      'application/vnd.oci.image.manifest.v1+json',
      json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] }),
    );
    return { ...manifest, platform: { architecture, os: 'linux' } };
  });
  const top =
    images.length === 1
      ? { mediaType: images[0]!.mediaType, digest: images[0]!.digest, size: images[0]!.size }
      : blob('application/vnd.oci.image.index.v1+json', json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: images }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
}

let layoutCount = 0;
function newLayout(archs: string[] = ['amd64']): string {
  const dir = join(work, `layout-${layoutCount++}`);
  ociLayout(dir, archs);
  return dir;
}

// ---- skopeo ----

type Outcome = { ok: true } | { ok: false; error: string };

async function skopeo(args: string[]): Promise<Outcome> {
  try {
    await run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 });
    return { ok: true };
  } catch (err) {
    return { ok: false, error: String((err as { stderr?: string }).stderr ?? err) };
  }
}

const push = (user: string, layout: string, repo: string): Promise<Outcome> =>
  skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', `${user}:${tokens[user]}`, `oci:${layout}:v1`, `docker://${registryHost}/${repo}:v1`]);

const pull = (user: string, repo: string): Promise<Outcome> =>
  skopeo([
    'copy',
    '--src-tls-verify=false',
    '--src-creds',
    `${user}:${tokens[user]}`,
    `docker://${registryHost}/${repo}:v1`,
    `oci:${join(work, `pull-${randomBytes(4).toString('hex')}`)}:v1`,
  ]);

async function createToken(user: string, permissions: readonly string[]): Promise<string> {
  const cookie = await loginAs(api.base, user, demoUserByUsername(user)!.password);
  const res = await fetch(`${api.base}/api/tokens`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ name: uniqueName('reg'), permissions, expiresInDays: 1 }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function images(user: string, query = ''): Promise<{ status: number; body: { items: ImageRepositoryView[] } }> {
  const res = await fetch(`${api.base}/api/images${query}`, { headers: { authorization: `Bearer ${tokens[user]}` } });
  return { status: res.status, body: (await res.json()) as { items: ImageRepositoryView[] } };
}

function claimsOf(jwt: string): { access: { type: string; name: string; actions: string[] }[]; aud: string; iss: string; sub: string } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as never;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const publicRepo = `public/${uniqueName('pub')}`;
const privateRepo = `vdc-${vdcA}/${uniqueName('app')}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgeport-registry-'));
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  const kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
  const domain = uniqueName('regd');
  await store.domains.create({ _id: domain, name: domain });
  for (const id of [vdcA, vdcB]) await seedVdc(store, kube, { id, name: id, domainId: domain, quota: { cpu: 2, memoryGi: 4, pods: 10 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: ROLES.vdcUser, scope: { type: 'vdc', vdcId: vdcA } }]);
  await grant(store, demoUserByUsername('other')!, [{ role: ROLES.vdcUser, scope: { type: 'vdc', vdcId: vdcB } }]);
  api = await startTestApi();
  tokens.tenant = await createToken('tenant', ['vdc:read', 'ticket:create']);
  tokens.other = await createToken('other', ['vdc:read', 'ticket:create']);
  tokens.opsadmin = await createToken('opsadmin', ALL_PERMISSIONS);
  // Fixtures pushed by their owners: a public image (ops admin) and VDC A's private image (A's member).
  expect(await push('opsadmin', newLayout(), publicRepo)).toEqual({ ok: true });
  expect(await push('tenant', newLayout(), privateRepo)).toEqual({ ok: true });
}, 240_000);

afterAll(async () => {
  await api?.stop();
  await store?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('local OCI registry with Edgeport as token service', () => {
  it("VDC A's member pulls A's private image; VDC B's member is refused", async () => {
    expect(await pull('tenant', privateRepo)).toEqual({ ok: true });
    const refused = await pull('other', privateRepo);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.error).toMatch(/requested access to the resource is denied/);
  }, 120_000);

  it('every signed-in user pulls public images; only operations admins push there', async () => {
    expect(await pull('tenant', publicRepo)).toEqual({ ok: true });
    expect(await pull('other', publicRepo)).toEqual({ ok: true });
    const pushed = await push('tenant', newLayout(), `public/${uniqueName('nope')}`);
    expect(pushed.ok).toBe(false);
  }, 120_000);

  it("a token for VDC A cannot push to VDC B (but A's member may push to A's staging)", async () => {
    const refused = await push('tenant', newLayout(), `vdc-${vdcB}/${uniqueName('x')}`);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.error).toMatch(/requested access to the resource is denied/);
    expect(await push('tenant', newLayout(), `staging-${vdcA}/${uniqueName('s')}`)).toEqual({ ok: true });

    // The token service grants only the allowed actions of what was asked.
    const res = await fetch(
      `${api.base}/api/registry/token?service=edgeport-registry&scope=repository:vdc-${vdcB}/x:pull,push&scope=repository:vdc-${vdcA}/x:pull,push`,
      {
        headers: { authorization: basic('tenant', tokens.tenant!) },
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { token: string; access_token: string; expires_in: number };
    expect(body.access_token).toBe(body.token);
    const claims = claimsOf(body.token);
    expect(claims).toMatchObject({ iss: 'edgeport', aud: 'edgeport-registry', sub: 'u-tenant' });
    expect(claims.access).toEqual([
      { type: 'repository', name: `vdc-${vdcB}/x`, actions: [] },
      { type: 'repository', name: `vdc-${vdcA}/x`, actions: ['pull', 'push'] },
    ]);
  }, 120_000);

  it('the token endpoint refuses bad credentials and names bad fields', async () => {
    const url = `${api.base}/api/registry/token?service=edgeport-registry&scope=repository:public/x:pull`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: basic('tenant', `ep_${'A'.repeat(43)}`) } })).status).toBe(401);
    // Someone else's username with the tenant's token.
    expect((await fetch(url, { headers: { authorization: basic('other', tokens.tenant!) } })).status).toBe(401);
    const wrongService = await fetch(`${api.base}/api/registry/token?service=elsewhere`, { headers: { authorization: basic('tenant', tokens.tenant!) } });
    expect(wrongService.status).toBe(400);
    expect(JSON.stringify(await wrongService.json())).toContain('"field":"service"');
    const badScope = await fetch(`${api.base}/api/registry/token?service=edgeport-registry&scope=nonsense`, {
      headers: { authorization: basic('tenant', tokens.tenant!) },
    });
    expect(badScope.status).toBe(400);
    expect(JSON.stringify(await badScope.json())).toContain('"field":"scope"');
  });

  it('a multi-arch index is listed with amd64 and arm64; listings show only what the caller may pull', async () => {
    const multi = `vdc-${vdcA}/${uniqueName('multi')}`;
    expect(await push('tenant', newLayout(['amd64', 'arm64']), multi)).toEqual({ ok: true });

    const listed = await images('tenant', `?vdcId=${vdcA}`);
    expect(listed.status).toBe(200);
    const names = listed.body.items.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining([privateRepo, multi]));
    expect(names.every((n) => n.startsWith(`vdc-${vdcA}/`) || n.startsWith(`staging-${vdcA}/`))).toBe(true);
    const tag = listed.body.items.find((r) => r.name === multi)!.tags[0]!;
    expect(tag).toMatchObject({ tag: 'v1', multiArch: true, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(tag.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64']);
    expect(tag.platforms.every((p) => p.os === 'linux' && p.size > 0)).toBe(true);
    expect(tag.size).toBe(tag.platforms.reduce((a, p) => a + p.size, 0));
    const single = listed.body.items.find((r) => r.name === privateRepo)!;
    expect(single).toMatchObject({ visibility: 'private', vdcId: vdcA, pullRef: `${new URL(stackEnv('EDGEPORT_REGISTRY_URL')).host}/${privateRepo}` });
    expect(single.tags[0]).toMatchObject({
      tag: 'v1',
      multiArch: false,
      created: '2026-01-02T03:04:05Z',
      pushedAt: null,
      platforms: [{ os: 'linux', architecture: 'amd64' }],
    });

    // B's member sees public images but none of A's, and A's listing is a 404 for them.
    const other = await images('other');
    expect(other.status).toBe(200);
    expect(other.body.items.map((r) => r.name)).toContain(publicRepo);
    expect(other.body.items.some((r) => r.vdcId === vdcA)).toBe(false);
    expect((await images('other', `?vdcId=${vdcA}`)).status).toBe(404);
    // The operations admin sees everything.
    const all = (await images('opsadmin')).body.items.map((r) => r.name);
    expect(all).toEqual(expect.arrayContaining([publicRepo, privateRepo, multi]));
  }, 120_000);
});
