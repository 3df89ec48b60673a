import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { HARBOR_REGISTRIES_COLLECTION } from '../store/harbor-registries.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Third-party Harbor registries over HTTP, with the api and worker as real processes against the stack and
 * the Harbor contract server (Harbor's published v2.0 OpenAPI subset, every request and response validated):
 * connect with good credentials → listed and browsable; bad credentials or an unreachable URL → 400 naming
 * the field and nothing stored; VDC users see nothing; the secret never reaches answers, MongoDB, the workflow
 * history or the audit log in clear.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();

let store: Store;
let temporal: Client;
let api: AppProcess;
let worker: AppProcess;
let harbor: FakeHarbor;
const { call, login } = testHttp();
const created: string[] = [];
const project = uniqueName('proj');
const timings: Record<string, number> = {};

const connect = (id: string, over: Record<string, unknown> = {}) => {
  created.push(id);
  return call('opsadmin', 'POST', '/api/harbor-registries', {
    id,
    name: `Harbor ${id}`,
    url: harbor.url,
    username: harbor.username,
    password: harbor.password,
    ...over,
  });
};

/** Every string and byte payload of a workflow history, decoded, so a secret can be searched for. */
function historyText(node: unknown, out: string[] = []): string[] {
  if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const n of node) historyText(n, out);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) historyText(v, out);
  return out;
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  temporal = new Client({
    connection: await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') }),
    namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE'),
  });
  harbor = await startFakeHarbor();
  harbor.seedImage(`${project}/app`, 'v1', ['amd64', 'arm64']);
  harbor.seedImage(`${project}/app`, 'v2', ['amd64']);
  [api, worker] = [startApp(repoDir, 'api', env), startApp(repoDir, 'worker', env)];
  await Promise.all([waitForApi(api, base, 300_000), waitForWorker(worker, 300_000)]);
  await login('opsadmin', 'tenant');
}, 360_000);

afterAll(async () => {
  await store?.testing.collection(HARBOR_REGISTRIES_COLLECTION).deleteMany({ _id: { $in: created as never[] } });
  await Promise.all([api?.stop(), worker?.stop()]);
  await harbor?.close();
  await temporal?.connection.close();
  await store?.close();
  console.log(`harbor registry timings (ms): ${JSON.stringify(timings)}`);
});

describe('third-party Harbor registries over HTTP', () => {
  const good = uniqueName('hb');

  it('connects with good credentials: checked by a workflow, listed, the secret sealed everywhere', async () => {
    const r = await connect(good);
    timings.connect = r.ms;
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({
      id: good,
      status: 'connected',
      url: harbor.url,
      username: harbor.username,
      projectCount: 1,
      createdBy: { sub: 'u-opsadmin' },
    });
    timings.checkInWorker = r.body.checkMs;
    expect(r.text).not.toContain(harbor.password);

    const list = await call('opsadmin', 'GET', '/api/harbor-registries');
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toContain(good);
    expect(list.text).not.toContain(harbor.password);
    expect((await call('opsadmin', 'GET', `/api/harbor-registries/${good}`)).body).toMatchObject({ id: good, status: 'connected' });

    const raw = await store.testing.collection(HARBOR_REGISTRIES_COLLECTION).findOne({ _id: good as never });
    expect(raw?.secret).toMatchObject({ v: 1, alg: 'aes-256-gcm', kid: expect.any(String), iv: expect.any(String), tag: expect.any(String) });
    expect(JSON.stringify(raw)).not.toContain(harbor.password);

    const ids: string[] = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowType = 'checkHarborRegistryWorkflow'` }))
      if (w.workflowId.startsWith(`harbor-registry-${good}-check-`)) ids.push(w.workflowId);
    expect(ids).toHaveLength(1);
    const history = historyText(await temporal.workflow.getHandle(ids[0]!).fetchHistory()).join('\n');
    expect(history).toContain(good);
    expect(history).not.toContain(harbor.password);

    const entry = await store.testing.collection('audit_entries').findOne({ action: 'harbor-registry.connect', target: `harbor-registry:${good}` });
    expect(entry).toMatchObject({ outcome: 'success', actor: { sub: 'u-opsadmin' }, details: { url: harbor.url, projectCount: 1 } });
    expect(JSON.stringify(entry)).not.toContain(harbor.password);
  });

  it('browses projects → repositories → tags with pull commands; an unknown project is 404', async () => {
    const projects = await call('opsadmin', 'GET', `/api/harbor-registries/${good}/browse`);
    timings.browseProjects = projects.ms;
    expect(projects.status, projects.text).toBe(200);
    expect(projects.body).toEqual({ level: 'projects', projects: [{ name: project, public: false, repoCount: 1 }] });
    const repos = await call('opsadmin', 'GET', `/api/harbor-registries/${good}/browse?project=${project}`);
    expect(repos.body).toEqual({ level: 'repositories', project, repositories: [`${project}/app`] });
    const tags = await call('opsadmin', 'GET', `/api/harbor-registries/${good}/browse?repository=${project}/app`);
    const host = new URL(harbor.url).host;
    expect(tags.body).toEqual({
      level: 'tags',
      repository: `${project}/app`,
      tags: [
        { tag: 'v1', pullCommand: `docker pull ${host}/${project}/app:v1` },
        { tag: 'v2', pullCommand: `docker pull ${host}/${project}/app:v2` },
      ],
    });
    expect((await call('opsadmin', 'GET', `/api/harbor-registries/${good}/browse?project=nope-${project}`)).status).toBe(404);
    const both = await call('opsadmin', 'GET', `/api/harbor-registries/${good}/browse?project=${project}&repository=${project}/app`);
    expect(both.status).toBe(400);
    expect(both.body.errors[0].field).toBe('repository');
    expect(harbor.problems()).toEqual([]);
  });

  it('bad credentials: 400 naming password, nothing stored, audited without the secret', async () => {
    const id = uniqueName('hbbad');
    const wrong = `wrong-${id}`;
    const r = await connect(id, { password: wrong });
    timings.refused = r.ms;
    expect(r.status, r.text).toBe(400);
    expect(r.body.errors).toEqual([{ field: 'password', message: expect.stringMatching(/401/) }]);
    expect(r.text).not.toContain(wrong);
    expect(await store.testing.collection(HARBOR_REGISTRIES_COLLECTION).countDocuments({ _id: id as never })).toBe(0);
    expect((await call('opsadmin', 'GET', `/api/harbor-registries/${id}`)).status).toBe(404);
    const entry = await store.testing.collection('audit_entries').findOne({ action: 'harbor-registry.connect', target: `harbor-registry:${id}` });
    expect(entry).toMatchObject({ outcome: 'failure' });
    expect(JSON.stringify(entry)).not.toContain(wrong);
  });

  it('an unreachable URL: 400 naming url, nothing stored; malformed bodies name their field', async () => {
    const id = uniqueName('hbdown');
    const r = await connect(id, { url: 'http://127.0.0.1:1' });
    timings.unreachable = r.ms;
    expect(r.status, r.text).toBe(400);
    expect(r.body.errors[0].field).toBe('url');
    expect(await store.testing.collection(HARBOR_REGISTRIES_COLLECTION).countDocuments({ _id: id as never })).toBe(0);
    const bad = await call('opsadmin', 'POST', '/api/harbor-registries', {
      id: uniqueName('hbx'),
      name: 'x',
      url: 'ftp://h.example',
      username: 'u',
      password: 'p',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['url']);
    expect((await connect(good)).status).toBe(409);
  });

  it('a VDC user sees no registries and cannot connect or browse one', async () => {
    expect((await call('tenant', 'GET', '/api/harbor-registries')).status).toBe(403);
    expect((await call('tenant', 'GET', `/api/harbor-registries/${good}`)).status).toBe(403);
    expect((await call('tenant', 'GET', `/api/harbor-registries/${good}/browse`)).status).toBe(403);
    expect(
      (
        await call('tenant', 'POST', '/api/harbor-registries', {
          id: uniqueName('hbt'),
          name: 'x',
          url: harbor.url,
          username: harbor.username,
          password: harbor.password,
        })
      ).status,
    ).toBe(403);
    expect((await call('tenant', 'DELETE', `/api/harbor-registries/${good}`)).status).toBe(403);
  });

  it('deletes a registry: gone from the list and from MongoDB; deleting again is 404', async () => {
    expect((await call('opsadmin', 'DELETE', `/api/harbor-registries/${good}`)).status).toBe(204);
    expect((await call('opsadmin', 'GET', `/api/harbor-registries/${good}`)).status).toBe(404);
    expect((await call('opsadmin', 'GET', '/api/harbor-registries')).body.items.map((x: { id: string }) => x.id)).not.toContain(good);
    expect(await store.testing.collection(HARBOR_REGISTRIES_COLLECTION).countDocuments({ _id: good as never })).toBe(0);
    expect((await call('opsadmin', 'DELETE', `/api/harbor-registries/${good}`)).status).toBe(404);
  });
});
