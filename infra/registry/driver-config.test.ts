import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../api/config.ts';
import { registryService } from '../../api/services/registry.ts';
import { ALL_PERMISSIONS } from '../../common/permissions.ts';
import { ROLES } from '../../common/roles.ts';
import { startFakeHarbor, type FakeHarbor } from '../../stack/testing/harbor-contract.ts';
import { loadWorkerConfig } from '../../worker/config.ts';
import { createImageActivities } from '../../activities/image-publish.ts';
import { createRegistryRuntime, registryDriverFor } from './runtime.ts';

/**
 * `EDGEPORT_REGISTRY_DRIVER=harbor` selects the Harbor driver in the worker and the API: the settings parse
 * once (zod), the worker's image activities (promote) and the API's listing then go to Harbor — here the
 * contract server, which validates every request and response against Harbor's published v2.0 OpenAPI subset.
 */
let harbor: FakeHarbor;
const suffix = Date.now().toString(36);
const key = randomBytes(32).toString('base64');

const workerEnv = (extra: Record<string, string | undefined>): NodeJS.ProcessEnv => ({
  EDGEPORT_TEMPORAL_ADDRESS: '127.0.0.1:1',
  EDGEPORT_MONGO_URL: 'mongodb://127.0.0.1:1/x',
  EDGEPORT_KUBECONFIG: '/nonexistent',
  EDGEPORT_CREDENTIALS_KEY: key,
  ...extra,
});
const apiEnv = (extra: Record<string, string | undefined>): NodeJS.ProcessEnv => ({
  ...workerEnv({}),
  EDGEPORT_PUBLIC_URL: 'http://127.0.0.1:1',
  EDGEPORT_REDIS_URL: 'redis://127.0.0.1:1',
  EDGEPORT_OIDC_ISSUER: 'http://127.0.0.1:1/oidc',
  EDGEPORT_OIDC_CLIENT_ID: 'c',
  EDGEPORT_OIDC_CLIENT_SECRET: 's',
  EDGEPORT_SESSION_SECRET: 'x'.repeat(32),
  ...extra,
});
const harborEnv = (): Record<string, string> => ({
  EDGEPORT_REGISTRY_DRIVER: 'harbor',
  EDGEPORT_HARBOR_URL: harbor.url,
  EDGEPORT_HARBOR_USERNAME: harbor.username,
  EDGEPORT_HARBOR_PASSWORD: harbor.password,
});

beforeAll(async () => {
  harbor = await startFakeHarbor();
});
afterAll(async () => {
  await harbor?.close();
});

describe('registry driver selection (EDGEPORT_REGISTRY_DRIVER)', () => {
  it('defaults to the local registry; harbor needs URL, user and password (each named when missing)', () => {
    expect(loadWorkerConfig(workerEnv({})).registry).toBeUndefined();
    expect(() =>
      loadWorkerConfig(workerEnv({ EDGEPORT_REGISTRY_DRIVER: 'harbor', EDGEPORT_HARBOR_URL: 'https://harbor.example.com', EDGEPORT_HARBOR_USERNAME: 'admin' })),
    ).toThrow(/EDGEPORT_HARBOR_PASSWORD/);
    expect(() => loadApiConfig(apiEnv({ EDGEPORT_REGISTRY_DRIVER: 'harbor' }))).toThrow(/EDGEPORT_HARBOR_URL[\s\S]*EDGEPORT_HARBOR_USERNAME/);
    expect(() => loadWorkerConfig(workerEnv({ EDGEPORT_REGISTRY_DRIVER: 'quay' }))).toThrow(/EDGEPORT_REGISTRY_DRIVER/);
  });

  it('the worker with harbor selected promotes an image through Harbor (copy by digest, tag) — every call within the contract', async () => {
    const cfg = loadWorkerConfig(workerEnv(harborEnv()));
    expect(cfg.registry).toMatchObject({ driver: 'harbor', url: harbor.url, username: harbor.username });
    const rt = createRegistryRuntime(cfg.registry!);
    expect(rt.driver.kind).toBe('harbor');
    expect(rt.host).toBe(new URL(harbor.url).host);

    const { digest } = harbor.seedImage(`staging-w${suffix}/web`, 'v1', ['amd64', 'arm64']);
    await rt.driver.ensureNamespace!({ name: `vdc-w${suffix}`, public: false });
    const activities = createImageActivities({ store: {} as never, registry: rt });
    const before = harbor.requests.length;
    expect(
      await activities.promoteImage({ source: { repository: `staging-w${suffix}/web`, digest }, target: { repository: `vdc-w${suffix}/web`, tag: 'v1' } }),
    ).toMatchObject({ digest });
    const ops = harbor.requests.slice(before).map((r) => r.operationId);
    expect(ops).toEqual(expect.arrayContaining(['CopyArtifact', 'createTag', 'getArtifact']));
    expect(await rt.driver.listTags(`vdc-w${suffix}/web`)).toEqual(['v1']);
    expect(harbor.problems()).toEqual([]);
  });

  it('the API with harbor selected lists images from Harbor (ops admin sees every repository with its platforms)', async () => {
    const cfg = loadApiConfig(apiEnv(harborEnv()));
    expect(cfg.harbor).toEqual({ url: harbor.url, username: harbor.username, password: harbor.password });
    harbor.seedImage(`public/a${suffix}`, 'stable', ['amd64']);
    const service = registryService({
      config: { url: cfg.harbor!.url },
      driver: registryDriverFor({ driver: 'harbor', ...cfg.harbor! }),
      vdcs: { get: async () => null },
    });
    const ops = {
      sub: 'ops',
      name: 'Ops',
      bindings: [],
      grants: [{ roleId: ROLES.opsAdmin, permissions: new Set(ALL_PERMISSIONS), scope: { type: 'platform' as const } }],
    };
    const before = harbor.requests.length;
    const listed = await service.list(ops, {});
    const repo = listed.find((r) => r.name === `public/a${suffix}`);
    expect(repo).toMatchObject({ visibility: 'public', pullRef: `${new URL(harbor.url).host}/public/a${suffix}` });
    expect(repo?.tags.map((t) => [t.tag, t.platforms.map((p) => p.architecture)])).toEqual([['stable', ['amd64']]]);
    expect(harbor.requests.slice(before).map((r) => r.operationId)).toContain('listAllRepositories');
    // Harbor issues pull tokens itself: Edgeport's token service is not there in this mode.
    await expect(service.token(ops, { scope: `repository:public/a${suffix}:pull` })).rejects.toThrow(/issues its own tokens/);
    expect(harbor.problems()).toEqual([]);
  });

  it('a refused Harbor call names the operation and status, never the password', async () => {
    const driver = registryDriverFor({ driver: 'harbor', url: harbor.url, username: harbor.username, password: `wrong-${suffix}` });
    const err = await driver.listRepositories('public').then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/harbor refused GET .* \(401\)/);
    expect(JSON.stringify({ message: err?.message, stack: err?.stack })).not.toContain(`wrong-${suffix}`);
  });
});
