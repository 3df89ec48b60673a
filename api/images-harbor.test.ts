import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageActivities } from '../activities/image-publish.ts';
import { registryDriverFor, createRegistryRuntime } from '../infra/registry/runtime.ts';
import { ALL_PERMISSIONS } from '../common/permissions.ts';
import { ROLES } from '../common/roles.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { NotFoundError } from './errors.ts';
import { imageService } from './services/images.ts';
import { registryService } from './services/registry.ts';

/**
 * `GET /api/images/detail` with `EDGEPORT_REGISTRY_DRIVER=harbor`: the image service reads the image and its
 * scan from Harbor (the contract server: every request and response validated against Harbor's published v2.0
 * OpenAPI subset), never triggering a scan itself; the worker's on-demand scan activity takes Harbor's scan.
 */
let harbor: FakeHarbor;
let store: Store;
let images: ReturnType<typeof imageService>;
const ops = {
  sub: 'ops',
  name: 'Ops',
  bindings: [],
  grants: [{ roleId: ROLES.opsAdmin, permissions: new Set(ALL_PERMISSIONS), scope: { type: 'platform' as const } }],
};
const nobody = { sub: 'nobody', name: 'Nobody', bindings: [], grants: [] };

beforeAll(async () => {
  harbor = await startFakeHarbor();
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  const driver = registryDriverFor({ driver: 'harbor', url: harbor.url, username: harbor.username, password: harbor.password });
  const registry = registryService({ config: { url: harbor.url }, driver, vdcs: store.vdcs, scans: store.imageScans });
  // No workflow is started by detail (the Temporal client is not used here).
  images = imageService({
    config: { url: harbor.url },
    driver,
    registry,
    vdcs: store.vdcs,
    scans: store.imageScans,
    temporal: {} as never,
    taskQueue: 'unused',
    audit: { append: async () => undefined },
  });
});

afterAll(async () => {
  await store?.close();
  await harbor?.close();
});

describe('image detail with Harbor', () => {
  it("reads the image from Harbor with Harbor's scan, without triggering one", async () => {
    const repo = `public/${uniqueName('hd')}`;
    const { digest } = harbor.seedImage(repo, 'v1', ['amd64', 'arm64']);
    const mark = harbor.requests.length;
    const before = await images.detail(ops, repo, 'v1');
    expect(before).toMatchObject({
      repository: repo,
      digest,
      multiArch: true,
      tags: ['v1'],
      pullRef: `${new URL(harbor.url).host}/${repo}@${digest}`,
      scan: null,
    });
    expect(before.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64']);
    expect(harbor.requests.slice(mark).map((r) => r.operationId)).not.toContain('scanArtifact');

    harbor.setScanResult(repo, digest, [{ id: 'CVE-2026-0100', package: 'busybox', version: '1.36.0', severity: 'Critical' }]);
    const rt = createRegistryRuntime({ driver: 'harbor', url: harbor.url, username: harbor.username, password: harbor.password });
    // The worker's on-demand scan (image-operation workflow) with Harbor: triggers Harbor's scan and stores it.
    const scanned = await createImageActivities({ store, registry: rt }).scanImage({ repository: repo, reference: 'v1' });
    expect(scanned).toMatchObject({ digest, severity: 'Critical', feed: { name: 'harbor' } });
    const after = await images.detail(ops, repo, digest);
    expect(after.scan).toMatchObject({ digest, severity: 'Critical', findings: [{ id: 'CVE-2026-0100', package: 'busybox', severity: 'Critical' }] });
    expect(harbor.problems()).toEqual([]);
  });

  it('an unknown image or one the caller may not pull is 404', async () => {
    await expect(images.detail(ops, `public/${uniqueName('none')}`, 'v1')).rejects.toBeInstanceOf(NotFoundError);
    const repo = `vdc-${uniqueName('x')}/app`;
    harbor.seedImage(repo, 'v1', ['amd64']);
    await expect(images.detail(nobody, repo, 'v1')).rejects.toBeInstanceOf(NotFoundError);
    expect(harbor.problems()).toEqual([]);
  });
});
