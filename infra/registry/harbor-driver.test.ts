import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harborContract, startFakeHarbor, type FakeHarbor } from '../../stack/testing/harbor-contract.ts';
import { RegistryNotFound, RegistryRefused } from './driver.ts';
import { registryDriverSuite, type DriverSuiteContext } from './driver-suite.ts';
import { harborDriver } from './harbor-driver.ts';

/**
 * The Harbor driver against Harbor's published v2.0 contract (a real Harbor cannot run here): every request
 * the driver makes and every response the fake answers with is validated against the transcribed swagger.
 */
let harbor: FakeHarbor;
let driver: ReturnType<typeof harborDriver>;
const suffix = Date.now().toString(36);
const ctx: DriverSuiteContext = {} as DriverSuiteContext;

beforeAll(async () => {
  harbor = await startFakeHarbor();
  driver = harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password });
  Object.assign(ctx, {
    driver,
    source: `staging-h${suffix}`,
    target: `vdc-h${suffix}`,
    seed: async (repository: string, tag: string, archs: string[]) => harbor.seedImage(repository, tag, archs),
  });
});

afterAll(async () => {
  await harbor?.close();
});

registryDriverSuite('harbor (contract)', () => ctx);

describe('harbor: projects, robots, scans, quota', () => {
  it('creates a project per VDC with prevent_vul/severity and updates it on the second call', async () => {
    const name = `vdc-p${suffix}`;
    expect(
      await driver.ensureNamespace({ name, public: false, preventVulnerable: { enabled: true, severity: 'high' }, storageLimitBytes: 10 * 2 ** 30 }),
    ).toEqual({ created: true });
    expect(await driver.getNamespace(name)).toEqual({ name, public: false, preventVulnerable: { enabled: true, severity: 'high' } });
    expect(
      await driver.ensureNamespace({ name, public: false, preventVulnerable: { enabled: true, severity: 'critical' }, storageLimitBytes: 20 * 2 ** 30 }),
    ).toEqual({ created: false });
    expect((await driver.getNamespace(name))?.preventVulnerable).toEqual({ enabled: true, severity: 'critical' });
    expect(await driver.getNamespace(`vdc-none${suffix}`)).toBeNull();
    await driver.ensureNamespace({ name: 'public', public: true });
    expect((await driver.getNamespace('public'))?.public).toBe(true);
    harbor.seedImage(`${name}/app`, 'v1', ['amd64']);
    expect(await driver.listRepositories()).toContain(`${name}/app`);
  });

  it('creates an expiring robot per VDC project, lists and deletes it; a robot for an unknown project is refused', async () => {
    const name = `vdc-r${suffix}`;
    await driver.ensureNamespace({ name, public: false });
    const robot = await driver.createRobot(name, { name: 'edgeport-pull', durationDays: 30, actions: ['pull', 'push'] });
    expect(robot.secret.length).toBeGreaterThan(0);
    expect(robot.expiresAt).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    expect((await driver.listRobots(name)).map((r) => r.id)).toEqual([robot.id]);
    await driver.deleteRobot(robot.id);
    expect(await driver.listRobots(name)).toEqual([]);
    await driver.deleteRobot(robot.id);
    await expect(driver.createRobot(`vdc-missing${suffix}`, { name: 'x', durationDays: 1, actions: ['pull'] })).rejects.toThrow(/not found/);
  });

  it('deletes a project with its repositories (Harbor refuses a non-empty one); an absent project is false', async () => {
    const name = `vdc-d${suffix}`;
    await driver.ensureNamespace({ name, public: false });
    harbor.seedImage(`${name}/app`, 'v1', ['amd64']);
    expect(await driver.deleteNamespace(name)).toEqual({ deleted: true });
    expect(await driver.getNamespace(name)).toBeNull();
    expect(await driver.listRepositories(name).catch(() => [])).toEqual([]);
    expect(await driver.deleteNamespace(name)).toEqual({ deleted: false });
  });

  it('lists projects (name, public, repository count) page by page, with a limit', async () => {
    const name = `vdc-l${suffix}`;
    await driver.ensureNamespace({ name, public: false });
    harbor.seedImage(`${name}/one`, 'v1', ['amd64']);
    const all = await driver.listProjects();
    expect(all.find((p) => p.name === name)).toEqual({ name, public: false, repoCount: 1 });
    expect(all.map((p) => p.name)).toEqual([...all.map((p) => p.name)].sort((a, b) => a.localeCompare(b)));
    expect(await driver.listProjects({ limit: 1 })).toHaveLength(1);
  });

  it('refreshes a robot: expiry moved to durationDays from now, a new secret, the old one gone', async () => {
    const name = `vdc-rr${suffix}`;
    await driver.ensureNamespace({ name, public: false });
    const robot = await driver.createRobot(name, { name: 'edgeport-pull', durationDays: 30, actions: ['pull'] });
    harbor.ageRobot(robot.id, 29);
    expect(harbor.robot(robot.id)!.expiresAt).toBeLessThan(Date.now() / 1000 + 2 * 86_400);
    const refreshed = await driver.refreshRobot(robot.id, 30);
    expect(refreshed.id).toBe(robot.id);
    expect(refreshed.secret).not.toBe(robot.secret);
    expect(harbor.robot(robot.id)).toEqual({ secret: refreshed.secret, expiresAt: refreshed.expiresAt });
    expect(refreshed.expiresAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 30 * 86_400 - 5);
    await expect(driver.refreshRobot(999_999, 30)).rejects.toBeInstanceOf(RegistryNotFound);
  });

  it('triggers a scan and reads the summary and the findings', async () => {
    const repo = `vdc-s${suffix}/app`;
    const { digest } = harbor.seedImage(repo, 'v1', ['amd64']);
    expect(await driver.scanSummary(repo, 'v1')).toMatchObject({ status: 'NotScanned' });
    harbor.setScanResult(repo, digest, [
      { id: 'CVE-2026-0001', package: 'openssl', version: '3.0.1', fix_version: '3.0.9', severity: 'Critical' },
      { id: 'CVE-2026-0002', package: 'zlib', version: '1.2.11', severity: 'Low' },
    ]);
    await driver.triggerScan(repo, 'v1');
    expect(await driver.scanSummary(repo, 'v1')).toMatchObject({
      status: 'Success',
      severity: 'Critical',
      total: 2,
      fixable: 1,
      counts: { Critical: 1, Low: 1 },
    });
    expect(await driver.scanFindings(repo, digest)).toEqual([
      { id: 'CVE-2026-0001', package: 'openssl', version: '3.0.1', fixVersion: '3.0.9', severity: 'Critical' },
      { id: 'CVE-2026-0002', package: 'zlib', version: '1.2.11', severity: 'Low' },
    ]);
  });

  it('sets the project storage quota', async () => {
    const name = `vdc-q${suffix}`;
    await driver.ensureNamespace({ name, public: false });
    await driver.setStorageLimit(name, 5 * 2 ** 30);
    await expect(driver.setStorageLimit(`vdc-qq${suffix}`, 1)).rejects.toThrow(/not found/);
  });

  it('reports a signed artifact through with_signature (Tag.signed)', async () => {
    const repo = `vdc-sig${suffix}/app`;
    const { digest } = harbor.seedImage(repo, 'v1', ['amd64']);
    expect(await driver.signature!(repo, digest)).toEqual({ signed: false });
    harbor.signTag(repo, 'v1');
    expect(await driver.signature!(repo, digest)).toEqual({ signed: true });
  });

  it('maps refusals to RegistryRefused (wrong credentials → 401)', async () => {
    const bad = harborDriver({ url: harbor.url, username: 'admin', password: 'wrong' });
    await expect(bad.listRepositories('public')).rejects.toBeInstanceOf(RegistryRefused);
  });
});

describe('harbor contract', () => {
  it('every request the driver made and every response the fake sent conform to the contract', () => {
    expect(harbor.requests.length).toBeGreaterThan(20);
    expect(harbor.problems()).toEqual([]);
  });

  it('the driver exercised every operation transcribed from the contract', () => {
    const used = new Set(harbor.requests.map((r) => r.operationId));
    expect(
      harborContract()
        .operationIds()
        .filter((id) => !used.has(id)),
    ).toEqual([]);
  });

  it('the validator catches violations (a request outside the contract, a bad body, a bad response)', () => {
    const c = harborContract();
    const q = new URLSearchParams('page_size=500&bogus=1');
    expect(c.checkRequest({ method: 'GET', path: '/api/v2.0/repositories', query: q, headers: {}, body: '' }).problems).toEqual([
      'query parameter bogus is not declared by listAllRepositories',
      'query parameter page_size=500 exceeds maximum 100',
    ]);
    expect(c.checkRequest({ method: 'PATCH', path: '/api/v2.0/projects', query: new URLSearchParams(), headers: {}, body: '' }).problems[0]).toMatch(
      /not an operation/,
    );
    const bad = c.checkRequest({
      method: 'POST',
      path: '/api/v2.0/robots',
      query: new URLSearchParams(),
      headers: {},
      body: JSON.stringify({ name: 'x', duration: 'forever' }),
    });
    expect(bad.problems.join()).toMatch(/CreateRobot body: .*duration must be integer/);
    expect(c.checkResponse(bad.matched!, 201, { id: 'one' }).join()).toMatch(/id must be integer/);
    expect(c.checkResponse(bad.matched!, 204, undefined).join()).toMatch(/declares no 204/);
  });
});
