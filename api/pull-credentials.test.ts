import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import type { AuditEntry } from '../common/audit.ts';
import { ALL_PERMISSIONS } from '../common/permissions.ts';
import { PULL_SECRET_NAME } from '../common/pull-credentials.ts';
import type { RoleBinding } from '../common/roles.ts';
import { vdcLifecycleId } from '../common/vdc-lifecycle.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp, until } from '../stack/testing/http.ts';
import { buildImage, writeOciLayout } from '../stack/testing/oci-image.ts';
import { AUDIT_COLLECTION } from '../store/audit.ts';
import { openStore, type Store } from '../store/index.ts';
import { PULL_CREDENTIALS_COLLECTION } from '../store/pull-credentials.ts';

/**
 * Issue 17, the pull proof: against the real local stack (api and worker processes, Temporal, MongoDB, the
 * kube-apiserver, the Debian docker-registry with Edgeport as its token service) VDC A is provisioned through
 * the API and its lifecycle workflow; the only credentials used to pull are those read back from the
 * `edgeport-pull` Secret in A's namespace on the kube-apiserver, handed to Debian `skopeo`.
 * With EDGEPORT_RECORD_FIXTURES=1 the rotation and deletion runs are written to `workflows/__fixtures__/`.
 */
const run = promisify(execFile);
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const edgeAdmin = createKubeClients(stackEnv('EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG'));
const registryHost = new URL(stackEnv('EDGEPORT_REGISTRY_URL')).host;
const record = process.env.EDGEPORT_RECORD_FIXTURES === '1';
const quota = { cpu: 2, memoryGi: 4, pods: 10 };

let store: Store;
let api: AppProcess;
let worker: AppProcess;
let temporal: Client;
let work: string;
let opsToken = '';
const { call, login, untilTicket } = testHttp();
const saved = new Map<string, RoleBinding[]>();
const domainId = uniqueName('pcd');
const vdcA = uniqueName('pca');
const vdcB = uniqueName('pcb');
const repoA = `vdc-${vdcA}/app`;
const repoB = `vdc-${vdcB}/secret`;
const repoPublic = `public/${uniqueName('base')}`;
/** Digests of A's multi-arch image as the registry holds it, per architecture. */
const platformDigests: Record<string, string> = {};

type Outcome = { ok: true; stdout: string } | { ok: false; error: string };
async function skopeo(args: string[]): Promise<Outcome> {
  try {
    const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 });
    return { ok: true, stdout };
  } catch (err) {
    return { ok: false, error: String((err as { stderr?: string }).stderr ?? err) };
  }
}

interface Login {
  username: string;
  password: string;
}

/** The login in the namespace's `edgeport-pull` Secret, read from the kube-apiserver (nothing else is used to pull). */
async function loginFromSecret(namespace: string, kube = admin): Promise<Login & { host: string; type: string }> {
  const secret = await kube.core.readNamespacedSecret({ name: PULL_SECRET_NAME, namespace });
  const config = JSON.parse(Buffer.from(secret.data!['.dockerconfigjson']!, 'base64').toString('utf8')) as {
    auths: Record<string, { username: string; password: string; auth: string }>;
  };
  const [host, entry] = Object.entries(config.auths)[0]!;
  expect(Buffer.from(entry.auth, 'base64').toString('utf8')).toBe(`${entry.username}:${entry.password}`);
  return { host, username: entry.username, password: entry.password, type: secret.type! };
}

const creds = (l: Login): string => `${l.username}:${l.password}`;
const inspectRaw = (l: Login, ref: string): Promise<Outcome> =>
  skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds(l), `docker://${registryHost}/${ref}`]);
let pulls = 0;
/** `skopeo copy` of one image (`arch`: the platform picked from an index) into an OCI layout; returns the layout's manifest digest. */
async function pull(l: Login, ref: string, arch?: string): Promise<Outcome & { digest?: string }> {
  const dir = join(work, `pull-${pulls++}`);
  const r = await skopeo([
    ...(arch ? ['--override-arch', arch] : []),
    'copy',
    '--src-tls-verify=false',
    '--src-creds',
    creds(l),
    `docker://${registryHost}/${ref}`,
    `oci:${dir}:pulled`,
  ]);
  if (!r.ok) return r;
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return { ...r, digest: index.manifests[0]!.digest };
}
/** Pushes a freshly built image (`archs`) with the given registry login. */
async function push(user: string, password: string, ref: string, archs: string[]): Promise<Outcome> {
  const dir = join(work, `push-${pulls++}`);
  writeOciLayout(dir, buildImage({ archs }), 'v1');
  return skopeo([
    'copy',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    '--dest-creds',
    `${user}:${password}`,
    `oci:${dir}:v1`,
    `docker://${registryHost}/${ref}`,
  ]);
}

/** Token endpoint answer for a Basic login (what skopeo does first). */
async function tokenFor(l: Login, scope: string): Promise<{ status: number; access?: { name: string; actions: string[] }[] }> {
  const res = await fetch(`${base}/api/registry/token?service=edgeport-registry&scope=${encodeURIComponent(scope)}`, {
    headers: { authorization: `Basic ${Buffer.from(creds(l)).toString('base64')}` },
  });
  const body = (await res.json()) as { token?: string };
  return { status: res.status, ...(body.token ? { access: JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString('utf8')).access } : {}) };
}

async function untilReady(vdcId: string): Promise<void> {
  await until(async () => (await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body?.provisioning?.state, {
    what: `VDC ${vdcId} ready`,
    ok: (s) => s === 'ready' || s === 'failed',
    timeout: 120_000,
  });
  expect((await call('opsadmin', 'GET', `/api/vdcs/${vdcId}`)).body.provisioning).toMatchObject({ state: 'ready' });
}

async function historyOf(vdcId: string): Promise<string> {
  return historyToJSON(await temporal.workflow.getHandle(vdcLifecycleId(vdcId)).fetchHistory());
}

/** A history's JSON with every payload's `data` (base64 in the JSON) decoded beside it, to search for secrets. */
function readable(historyJson: string): string {
  const decoded: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'data' && typeof x === 'string') decoded.push(Buffer.from(x, 'base64').toString('utf8'));
        else walk(x);
      }
    }
  };
  walk(JSON.parse(historyJson));
  expect(decoded.length).toBeGreaterThan(0);
  return `${historyJson}\n${decoded.join('\n')}`;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgeport-pull-'));
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  saved.set('u-tenant', (await store.users.get('u-tenant'))?.bindings ?? []);
  const env = appEnvFromProcess();
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
  await login('opsadmin', 'tenant');
  const token = await call('opsadmin', 'POST', '/api/tokens', { name: uniqueName('pc'), permissions: ALL_PERMISSIONS, expiresInDays: 1 });
  expect(token.status).toBe(201);
  opsToken = token.body.token;

  // Two VDCs through the real path: the API creates them, their lifecycle workflows provision them on `local`.
  expect((await call('opsadmin', 'POST', '/api/domains', { id: domainId, name: domainId })).status).toBe(201);
  // A lives on two pools (the stack's two kube-apiservers), B on one.
  expect(
    (
      await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, {
        id: vdcA,
        name: vdcA,
        pools: [
          { pool: 'local', quota },
          { pool: 'edge-1', quota },
        ],
      })
    ).status,
  ).toBe(201);
  expect((await call('opsadmin', 'POST', `/api/domains/${domainId}/vdcs`, { id: vdcB, name: vdcB, pools: [{ pool: 'local', quota }] })).status).toBe(201);
  expect((await call('opsadmin', 'PUT', `/api/vdcs/${vdcA}/members/u-tenant`, { roles: ['vdc-admin'] })).status).toBe(200);

  // Published images: A's multi-arch image, a public image, B's private image.
  expect(await push('opsadmin', opsToken, `${repoA}:v1`, ['amd64', 'arm64'])).toMatchObject({ ok: true });
  expect(await push('opsadmin', opsToken, `${repoPublic}:v1`, ['amd64'])).toMatchObject({ ok: true });
  expect(await push('opsadmin', opsToken, `${repoB}:v1`, ['amd64'])).toMatchObject({ ok: true });
  const index = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', `opsadmin:${opsToken}`, `docker://${registryHost}/${repoA}:v1`]);
  expect(index.ok).toBe(true);
  for (const m of (JSON.parse((index as { stdout: string }).stdout) as { manifests: { digest: string; platform: { architecture: string } }[] }).manifests)
    platformDigests[m.platform.architecture] = m.digest;
  expect(Object.keys(platformDigests).sort()).toEqual(['amd64', 'arm64']);
  await Promise.all([untilReady(vdcA), untilReady(vdcB)]);
}, 300_000);

afterAll(async () => {
  for (const [sub, bindings] of saved) {
    const u = await store?.users.get(sub).catch(() => null);
    if (u) await store.users.upsert({ ...u, bindings }).catch(() => undefined);
  }
  await Promise.all([api?.stop(), worker?.stop()]);
  await temporal?.connection.close();
  await store?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('image pull credentials per VDC, proven with skopeo', () => {
  let loginA: Login & { host: string; type: string };

  it("provisioning writes A's pull Secret, the default ServiceAccount lists it, and the secret is nowhere but sealed", async () => {
    loginA = await loginFromSecret(`vdc-${vdcA}`);
    expect(loginA).toMatchObject({ type: 'kubernetes.io/dockerconfigjson', host: registryHost, username: `vdc-${vdcA}-pull` });
    expect(loginA.password).toMatch(/^eppull_/);
    const sa = await until(() => admin.core.readNamespacedServiceAccount({ name: 'default', namespace: `vdc-${vdcA}` }), {
      what: 'default ServiceAccount references the Secret',
      ok: (s) => (s.imagePullSecrets ?? []).some((r) => r.name === PULL_SECRET_NAME),
      timeout: 120_000,
    });
    expect(sa.imagePullSecrets).toEqual([{ name: PULL_SECRET_NAME }]);
    // A's default namespace on its second pool (the edge-1 kube-apiserver) holds the same login.
    const onEdge = await loginFromSecret(`vdc-${vdcA}-edge-1`, edgeAdmin);
    expect(onEdge).toEqual(loginA);
    expect((await edgeAdmin.core.readNamespacedServiceAccount({ name: 'default', namespace: `vdc-${vdcA}-edge-1` })).imagePullSecrets).toEqual([
      { name: PULL_SECRET_NAME },
    ]);
    // B has its own, different credential.
    const loginB = await loginFromSecret(`vdc-${vdcB}`);
    expect(loginB.username).toBe(`vdc-${vdcB}-pull`);
    expect(loginB.password).not.toBe(loginA.password);
    // Never in the workflow history, the tickets, the audit log, or stored in clear.
    const provisionHistory = readable(await historyOf(vdcA));
    expect(provisionHistory).toContain('applyVdcPullSecret');
    expect(provisionHistory).not.toContain(loginA.password);
    const stored = await store.testing.collection(PULL_CREDENTIALS_COLLECTION).findOne({ _id: vdcA as never });
    expect(stored).toMatchObject({ _id: vdcA, rotationId: 'initial' });
    expect(JSON.stringify(stored)).not.toContain(loginA.password);
    // The name is reserved: the config center does not let a tenant Secret take (or clobber) it.
    const taken = await call('tenant', 'POST', `/api/vdcs/${vdcA}/secrets`, { type: 'opaque', name: PULL_SECRET_NAME, entries: [{ key: 'k', value: 'v' }] });
    expect(taken.status).toBe(400);
    expect(taken.body.errors).toEqual([{ field: 'name', message: "is reserved for the VDC's image pull Secret" }]);
    const audit = await store.testing
      .collection(AUDIT_COLLECTION)
      .find({ target: `vdc:${vdcA}` })
      .toArray();
    expect(JSON.stringify(audit)).not.toContain(loginA.password);
  });

  it("pulls A's own multi-arch image (both architectures) and the public image with only the Secret's login", async () => {
    const raw = await inspectRaw(loginA, `${repoA}:v1`);
    expect(raw.ok, raw.ok ? '' : raw.error).toBe(true);
    expect(JSON.parse((raw as { stdout: string }).stdout).manifests).toHaveLength(2);
    for (const arch of ['amd64', 'arm64']) {
      const r = await pull(loginA, `${repoA}:v1`, arch);
      expect(r.ok, r.ok ? '' : r.error).toBe(true);
      expect(r.digest).toBe(platformDigests[arch]);
    }
    const pub = await pull(loginA, `${repoPublic}:v1`);
    expect(pub.ok, pub.ok ? '' : pub.error).toBe(true);
  }, 180_000);

  it("refuses B's private image, any push, and staging with A's pull credential", async () => {
    const refused = await pull(loginA, `${repoB}:v1`);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.error).toMatch(/denied|unauthorized/i);
    for (const ref of [`${repoA}:pushed`, `${repoPublic}:pushed`, `staging-${vdcA}/x:v1`]) {
      const pushed = await push(loginA.username, loginA.password, ref, ['amd64']);
      expect(pushed.ok, ref).toBe(false);
      expect(pushed.ok ? '' : pushed.error).toMatch(/denied|unauthorized/i);
    }
    // What the token service granted: pull on A's and public repositories only.
    const t = await tokenFor(loginA, `repository:${repoA}:pull,push`);
    expect(t).toEqual({ status: 200, access: [{ type: 'repository', name: repoA, actions: ['pull'] }] });
    expect((await tokenFor(loginA, `repository:${repoB}:pull`)).access).toEqual([{ type: 'repository', name: repoB, actions: [] }]);
    expect((await tokenFor(loginA, `repository:staging-${vdcA}/x:pull`)).access).toEqual([{ type: 'repository', name: `staging-${vdcA}/x`, actions: [] }]);
    // A's secret under B's username, or a made-up one, is no login at all.
    expect((await tokenFor({ username: `vdc-${vdcB}-pull`, password: loginA.password }, `repository:${repoB}:pull`)).status).toBe(401);
    expect((await tokenFor({ username: loginA.username, password: `${loginA.password.slice(0, -2)}xx` }, `repository:${repoA}:pull`)).status).toBe(401);
  }, 180_000);

  it("a space created by A's VDC admin gets the Secret too; a rotation by the VDC admin rewrites every Secret and the old login fails", async () => {
    const ticket = await call('tenant', 'POST', '/api/tickets', { type: 'space-create', vdcId: vdcA, name: 'web' });
    expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
    const done = await untilTicket('tenant', ticket.body.id, (t) => ['completed', 'failed', 'compensated'].includes(t.status), { timeout: 120_000 });
    expect(done.status, JSON.stringify(done)).toBe('completed');
    const spaceNs = `${vdcA}-web`;
    const inSpace = await loginFromSecret(spaceNs);
    expect({ username: inSpace.username, password: inSpace.password }).toEqual({ username: loginA.username, password: loginA.password });
    expect((await admin.core.readNamespacedServiceAccount({ name: 'default', namespace: spaceNs })).imagePullSecrets).toEqual([{ name: PULL_SECRET_NAME }]);

    // Rotation: a VDC user may not, the VDC admin may (audited); the pass rewrites both namespaces.
    expect((await call('tenant', 'GET', `/api/vdcs/${vdcA}/pull-credential`)).body).toMatchObject({
      vdcId: vdcA,
      secretName: PULL_SECRET_NAME,
      driver: 'local',
      username: loginA.username,
      rotationId: 'initial',
    });
    const rotated = await call('tenant', 'POST', `/api/vdcs/${vdcA}/pull-credential/rotate`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(202);
    const rotationId = rotated.body.rotationId as string;
    await until(async () => (await call('tenant', 'GET', `/api/vdcs/${vdcA}/pull-credential`)).body.rotationId, {
      what: 'rotation recorded',
      ok: (id) => id === rotationId,
      timeout: 120_000,
    });
    const fresh = await until(() => loginFromSecret(`vdc-${vdcA}`), {
      what: 'default namespace Secret rewritten',
      ok: (l) => l.password !== loginA.password,
      timeout: 120_000,
    });
    const freshSpace = await until(() => loginFromSecret(spaceNs), {
      what: 'space Secret rewritten',
      ok: (l) => l.password !== loginA.password,
      timeout: 120_000,
    });
    expect(freshSpace.password).toBe(fresh.password);
    expect(
      (
        await until(() => loginFromSecret(`vdc-${vdcA}-edge-1`, edgeAdmin), {
          what: 'edge-1 Secret rewritten',
          ok: (l) => l.password !== loginA.password,
          timeout: 120_000,
        })
      ).password,
    ).toBe(fresh.password);

    const old = await inspectRaw(loginA, `${repoA}:v1`);
    expect(old.ok).toBe(false);
    expect(old.ok ? '' : old.error).toMatch(/unauthorized|401|authentication required/i);
    expect((await tokenFor(loginA, `repository:${repoA}:pull`)).status).toBe(401);
    const now = await pull(fresh, `${repoA}:v1`, 'arm64');
    expect(now.ok, now.ok ? '' : now.error).toBe(true);
    expect(now.digest).toBe(platformDigests.arm64);

    const entries = (await store.testing
      .collection(AUDIT_COLLECTION)
      .find({ action: 'vdc.pull-credential.rotate', target: `vdc:${vdcA}` })
      .toArray()) as unknown as AuditEntry[];
    expect(entries.map((e) => [e.outcome, e.actor?.sub, (e.details as { rotationId?: string }).rotationId])).toEqual([['success', 'u-tenant', rotationId]]);
    const history = await historyOf(vdcA);
    expect(readable(history)).toContain(rotationId);
    for (const secret of [loginA.password, fresh.password]) expect(readable(history)).not.toContain(secret);
    if (record) writeFileSync(join(repoDir, 'workflows', '__fixtures__', 'vdc-lifecycle-pull-rotation.json'), history);
    const spaceHistory = historyToJSON(await temporal.workflow.getHandle(ticket.body.id).fetchHistory());
    expect(readable(spaceHistory)).toContain('pull-secret');
    for (const secret of [loginA.password, fresh.password]) expect(readable(spaceHistory)).not.toContain(secret);
    if (record) writeFileSync(join(repoDir, 'workflows', '__fixtures__', 'space-create-pull-secret.json'), spaceHistory);
  }, 240_000);

  it("deleting a VDC removes its pull credential: B's login stops working", async () => {
    const loginB = await loginFromSecret(`vdc-${vdcB}`);
    expect((await tokenFor(loginB, `repository:${repoB}:pull`)).access).toEqual([{ type: 'repository', name: repoB, actions: ['pull'] }]);
    expect((await call('opsadmin', 'DELETE', `/api/vdcs/${vdcB}`)).status).toBe(202);
    await until(async () => (await call('opsadmin', 'GET', `/api/vdcs/${vdcB}`)).status, {
      what: `VDC ${vdcB} deleted`,
      ok: (s) => s === 404,
      timeout: 120_000,
    });
    expect(await store.testing.collection(PULL_CREDENTIALS_COLLECTION).findOne({ _id: vdcB as never })).toBeNull();
    expect((await tokenFor(loginB, `repository:${repoB}:pull`)).status).toBe(401);
    if (record) writeFileSync(join(repoDir, 'workflows', '__fixtures__', 'vdc-lifecycle-pull-delete.json'), await historyOf(vdcB));
  }, 180_000);
});
