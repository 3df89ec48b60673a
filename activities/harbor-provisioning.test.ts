import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARBOR_PROVISION_FAILURES, vdcRobotName, type HarborVdcProvisionResult } from '../common/harbor-vdc-provision.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { credentialCipher } from '../store/credentials.ts';
import { HARBOR_ROBOT_SECRETS_COLLECTION, harborRobotSecretAad } from '../store/harbor-robot-secrets.ts';
import { openStore, type Store } from '../store/index.ts';
import { createHarborProvisioningActivities } from './harbor-provisioning.ts';
import { createImageActivities } from './image-publish.ts';
import { harborDriver } from '../infra/registry/harbor-driver.ts';
import { createRegistryRuntime, type AnyRegistryRuntime } from '../infra/registry/runtime.ts';

/**
 * `provisionVdcRegistry` against the Harbor contract server (every request and response validated against
 * Harbor's published v2.0 OpenAPI subset) and the stack's MongoDB (VDC records, sealed robot secrets): projects
 * with Edgeport's settings, exactly one robot per VDC, its secret sealed and never returned, reruns idempotent.
 */
let harbor: FakeHarbor;
let store: Store;
let rt: AnyRegistryRuntime;
const key = randomBytes(32).toString('base64');
const cipher = credentialCipher(key, []);
const vdcs: string[] = [];
let acts: ReturnType<typeof createHarborProvisioningActivities>;

const newVdc = async (): Promise<string> => {
  const id = uniqueName('hp');
  await store.vdcs.create({ _id: id, name: id, domainId: 'harbor-prov-test', namespace: `vdc-${id}`, namespaceStatus: 'requested', pool: 'local', quota: {} });
  vdcs.push(id);
  return id;
};
const ops = (since: number, operationId: string): number => harbor.requests.slice(since).filter((r) => r.operationId === operationId).length;
const secretId = (robotId: number): string => `${new URL(harbor.url).host}/${robotId}`;
/** A read of Harbor's API (contract-checked like the driver's). */
const get = async <T>(path: string, headers: Record<string, string> = {}): Promise<T> => {
  const res = await fetch(`${harbor.url}/api/v2.0${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${harbor.username}:${harbor.password}`).toString('base64')}`, ...headers },
  });
  return (await res.json()) as T;
};
/** The project's storage quota as Harbor reports it. */
async function storageQuota(project: string): Promise<number | undefined> {
  const p = await get<{ project_id: number }>(`/projects/${project}`, { 'X-Is-Resource-Name': 'true' });
  const quotas = await get<{ hard: { storage?: number } }[]>(`/quotas?reference=project&reference_id=${p.project_id}`);
  return quotas[0]?.hard.storage;
}

beforeAll(async () => {
  harbor = await startFakeHarbor();
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  rt = createRegistryRuntime({
    driver: 'harbor',
    url: harbor.url,
    username: harbor.username,
    password: harbor.password,
    robotDurationDays: 30,
    projectStorageGi: 5,
    deployPolicy: { blockSeverity: 'High', external: 'allow', requireSignature: false },
  });
  acts = createHarborProvisioningActivities({ store, credentials: cipher, registry: rt });
});

afterAll(async () => {
  for (const id of vdcs) await store?.vdcs.remove(id);
  await store?.testing
    .collection(HARBOR_ROBOT_SECRETS_COLLECTION)
    .deleteMany({ _id: { $regex: `^${new URL(harbor.url).host.replace(/\./g, '\\.')}/` } as never });
  await store?.close();
  await harbor?.close();
});

describe('provisionVdcRegistry (Harbor contract)', () => {
  it('creates the VDC projects and public with prevent_vul + quota, and one pull robot whose secret is sealed, not returned; a rerun changes nothing', async () => {
    const vdc = await newVdc();
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    const before = harbor.requests.length;
    const first = await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(first.driver).toBe('harbor');
    expect(first.projects).toEqual([
      { name: `vdc-${vdc}`, outcome: 'created' },
      { name: `staging-${vdc}`, outcome: 'created' },
      { name: 'public', outcome: 'created' },
    ]);
    expect(ops(before, 'createProject')).toBe(3);
    for (const name of [`vdc-${vdc}`, `staging-${vdc}`, 'public']) {
      expect(await admin.getNamespace(name)).toEqual({ name, public: name === 'public', preventVulnerable: { enabled: true, severity: 'high' } });
    }
    expect(first.robot).toMatchObject({ name: `robot$vdc-${vdc}+${vdcRobotName(vdc)}`, project: `vdc-${vdc}`, outcome: 'created' });
    const robot = first.robot!;
    expect(robot.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 29 * 86_400);
    expect(robot.expiresAt).toBeLessThan(Math.floor(Date.now() / 1000) + 31 * 86_400);
    const held = harbor.robot(robot.id)!;
    expect(JSON.stringify(first)).not.toContain(held.secret);
    const stored = await store.harborRobotSecrets.get(secretId(robot.id));
    expect(stored).toMatchObject({ project: `vdc-${vdc}`, name: robot.name, expiresAt: robot.expiresAt });
    expect(JSON.stringify(stored)).not.toContain(held.secret);
    expect(cipher.open(stored!.secret, harborRobotSecretAad(secretId(robot.id)))).toBe(held.secret);
    expect(ops(before, 'CreateRobot')).toBe(1);
    expect(await get(`/robots/${robot.id}`)).toMatchObject({
      level: 'project',
      disable: false,
      permissions: [{ kind: 'project', namespace: `vdc-${vdc}`, access: [{ resource: 'repository', action: 'pull' }] }],
    });

    const mark = harbor.requests.length;
    const again = await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(again).toEqual<HarborVdcProvisionResult>({
      driver: 'harbor',
      projects: [
        { name: `vdc-${vdc}`, outcome: 'unchanged' },
        { name: `staging-${vdc}`, outcome: 'unchanged' },
        { name: 'public', outcome: 'unchanged' },
      ],
      robot: { ...robot, outcome: 'unchanged' },
      removedRobots: [],
    });
    const writes = harbor.requests.slice(mark).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    expect(writes).toEqual([]);
    expect(harbor.robot(robot.id)!.secret).toBe(held.secret);
    expect((await admin.listRobots(`vdc-${vdc}`)).map((r) => r.id)).toEqual([robot.id]);
    expect(harbor.problems()).toEqual([]);
  });

  it('sets the storage quota on the projects it creates and restores changed settings without touching the quota', async () => {
    const vdc = await newVdc();
    await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(await storageQuota(`vdc-${vdc}`)).toBe(5 * 1024 ** 3);
    expect(await storageQuota(`staging-${vdc}`)).toBe(5 * 1024 ** 3);
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    await admin.ensureNamespace({ name: `staging-${vdc}`, public: true, preventVulnerable: { enabled: false, severity: 'none' } });
    const mark2 = harbor.requests.length;
    const r = await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(r.projects.find((p) => p.name === `staging-${vdc}`)?.outcome).toBe('updated');
    expect(await admin.getNamespace(`staging-${vdc}`)).toMatchObject({ public: false, preventVulnerable: { enabled: true, severity: 'high' } });
    expect(harbor.requests.slice(mark2).filter((x) => x.operationId === 'updateQuota' || x.operationId === 'createProject')).toEqual([]);
    expect(await storageQuota(`staging-${vdc}`)).toBe(5 * 1024 ** 3);
    expect(harbor.problems()).toEqual([]);
  });

  it('a robot whose secret Edgeport lost gets a refreshed secret (same robot, no duplicate)', async () => {
    const vdc = await newVdc();
    const first = (await acts.provisionVdcRegistry({ vdcId: vdc })).robot!;
    const oldSecret = harbor.robot(first.id)!.secret;
    await store.testing.collection(HARBOR_ROBOT_SECRETS_COLLECTION).deleteOne({ _id: secretId(first.id) as never });
    const mark = harbor.requests.length;
    const again = await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(again.robot).toMatchObject({ id: first.id, name: first.name, outcome: 'refreshed' });
    expect(ops(mark, 'CreateRobot')).toBe(0);
    expect(ops(mark, 'RefreshSec')).toBe(1);
    const now = harbor.robot(first.id)!.secret;
    expect(now).not.toBe(oldSecret);
    const stored = await store.harborRobotSecrets.get(secretId(first.id));
    expect(cipher.open(stored!.secret, harborRobotSecretAad(secretId(first.id)))).toBe(now);
    expect(JSON.stringify(again)).not.toContain(now);

    // A record sealed with a key the worker no longer has counts as lost too.
    const other = credentialCipher(randomBytes(32).toString('base64'), []);
    await store.harborRobotSecrets.put({ ...stored!, secret: other.seal('x', harborRobotSecretAad(secretId(first.id))) });
    expect((await acts.provisionVdcRegistry({ vdcId: vdc })).robot?.outcome).toBe('refreshed');
    expect((await acts.provisionVdcRegistry({ vdcId: vdc })).robot?.outcome).toBe('unchanged');
    expect(harbor.problems()).toEqual([]);
  });

  it('keeps exactly one Edgeport robot: an extra one (e.g. made by hand with the same name) is deleted, the one with the sealed secret kept', async () => {
    const vdc = await newVdc();
    const first = (await acts.provisionVdcRegistry({ vdcId: vdc })).robot!;
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    const extra = await admin.createRobot(`vdc-${vdc}`, { name: vdcRobotName(vdc), durationDays: 30, actions: ['pull'] });
    const unrelated = await admin.createRobot(`vdc-${vdc}`, { name: 'ci-pusher', durationDays: 30, actions: ['pull', 'push'] });
    const r = await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(r.removedRobots).toEqual([extra.id]);
    expect(r.robot).toMatchObject({ id: first.id, outcome: 'unchanged' });
    expect((await admin.listRobots(`vdc-${vdc}`)).map((x) => x.id).sort((a, b) => a - b)).toEqual([first.id, unrelated.id].sort((a, b) => a - b));
    expect(harbor.problems()).toEqual([]);
  });

  it('an expired robot is refreshed (expiry moved, new secret)', async () => {
    const vdc = await newVdc();
    const first = (await acts.provisionVdcRegistry({ vdcId: vdc })).robot!;
    harbor.ageRobot(first.id, 31);
    const r = await acts.provisionVdcRegistry({ vdcId: vdc });
    expect(r.robot).toMatchObject({ id: first.id, outcome: 'refreshed' });
    expect(r.robot!.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 29 * 86_400);
    expect(harbor.problems()).toEqual([]);
  });

  it('refuses a VDC that does not exist (non-retryable, nothing created) and without a credentials key', async () => {
    const missing = uniqueName('gone');
    const mark = harbor.requests.length;
    await expect(acts.provisionVdcRegistry({ vdcId: missing })).rejects.toMatchObject({ type: HARBOR_PROVISION_FAILURES.vdcNotFound, nonRetryable: true });
    expect(harbor.requests.length).toBe(mark);
    const noKey = createHarborProvisioningActivities({ store, registry: rt });
    await expect(noKey.provisionVdcRegistry({ vdcId: await newVdc() })).rejects.toMatchObject({ type: HARBOR_PROVISION_FAILURES.noCipher });
  });

  it('with the local registry it is a no-op', async () => {
    const local = createRegistryRuntime({
      url: stackEnv('EDGEPORT_REGISTRY_URL'),
      tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
      tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
    });
    const r = await createHarborProvisioningActivities({ store, credentials: cipher, registry: local }).provisionVdcRegistry({ vdcId: await newVdc() });
    expect(r).toEqual({ driver: 'local', projects: [], robot: null, removedRobots: [] });
  });

  it('promoting to a VDC project that does not exist yet creates it with the settings first; an existing one is left alone', async () => {
    const vdc = uniqueName('hpp');
    const src = harbor.seedImage(`staging-${vdc}/app`, 'v1', ['amd64']);
    const images = createImageActivities({ store, registry: rt });
    const mark = harbor.requests.length;
    await expect(
      images.promoteImage({ source: { repository: `staging-${vdc}/app`, digest: src.digest }, target: { repository: `vdc-${vdc}/app`, tag: 'v1' } }),
    ).resolves.toMatchObject({ digest: src.digest });
    expect(ops(mark, 'createProject')).toBe(1);
    const admin = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
    expect(await admin.getNamespace(`vdc-${vdc}`)).toEqual({ name: `vdc-${vdc}`, public: false, preventVulnerable: { enabled: true, severity: 'high' } });
    const mark2 = harbor.requests.length;
    await images.promoteImage({ source: { repository: `staging-${vdc}/app`, digest: src.digest }, target: { repository: `vdc-${vdc}/app`, tag: 'v1' } });
    expect(
      harbor.requests.slice(mark2).filter((r) => r.operationId === 'createProject' || r.operationId === 'updateProject' || r.operationId === 'updateQuota'),
    ).toEqual([]);
    expect(harbor.problems()).toEqual([]);
  });
});
