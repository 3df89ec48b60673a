import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { createImageActivities } from './image-publish.ts';
import { createRegistryRuntime, type AnyRegistryRuntime } from '../infra/registry/runtime.ts';

/**
 * Publish preflight with the Harbor driver: the preview's scan comes from Harbor's scanner (scan overview and
 * vulnerability report of the pinned digest, a scan triggered when Harbor has none), not from the local scanner's
 * store; High/Critical findings still block unless overridden. Against the Harbor contract server (every request
 * and response validated against Harbor's published v2.0 OpenAPI subset) and the stack's MongoDB.
 */
let harbor: FakeHarbor;
let store: Store;
let rt: AnyRegistryRuntime;
let images: ReturnType<typeof createImageActivities>;

beforeAll(async () => {
  harbor = await startFakeHarbor();
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  rt = createRegistryRuntime({ driver: 'harbor', url: harbor.url, username: harbor.username, password: harbor.password });
  images = createImageActivities({ store, registry: rt });
});

afterAll(async () => {
  await store?.close();
  await harbor?.close();
});

const ops = (since: number): (string | null)[] => harbor.requests.slice(since).map((r) => r.operationId);
const target = (vdc: string) => ({ repository: `vdc-${vdc}/app`, tag: 'v1', visibility: 'private' as const });

describe('preflightImagePublish with Harbor', () => {
  it('an image Harbor never scanned: a scan is triggered and its clean result is the preview scan', async () => {
    const vdc = uniqueName('ph');
    const { digest } = harbor.seedImage(`staging-${vdc}/app`, 'v1', ['amd64', 'arm64']);
    const mark = harbor.requests.length;
    const p = await images.preflightImagePublish({ source: { repository: `staging-${vdc}/app`, tag: 'v1' }, target: target(vdc) });
    expect(p.errors).toEqual([]);
    expect(p.source.digest).toBe(digest);
    expect(p.scan).toMatchObject({ digest, repository: `staging-${vdc}/app`, severity: 'None', findings: [], feed: { name: 'harbor' } });
    expect(p.scan?.scanner).toMatch(/^harbor \(Trivy/);
    expect(p.blocking).toEqual([]);
    expect(ops(mark)).toContain('scanArtifact');
    expect(harbor.problems()).toEqual([]);
  });

  it("Harbor's High finding blocks promotion with the finding listed; an override lets it through, still listed", async () => {
    const vdc = uniqueName('ph');
    const { digest } = harbor.seedImage(`staging-${vdc}/app`, 'v1', ['amd64']);
    harbor.setScanResult(`staging-${vdc}/app`, digest, [
      { id: 'CVE-2026-0001', package: 'openssl', version: '3.0.1', fix_version: '3.0.9', severity: 'High' },
      { id: 'CVE-2026-0002', package: 'zlib', version: '1.2.11', severity: 'Low' },
    ]);
    // A clean local-scanner result stored for the same digest must not be what the preview shows.
    await store.imageScans.save({
      digest,
      repository: `staging-${vdc}/app`,
      scannedAt: new Date(Date.now() - 60_000).toISOString(),
      scanner: 'edgeport-local',
      feed: { name: 'demo', version: '1' },
      packages: {},
      platforms: [],
      findings: [],
      counts: {},
      severity: 'None',
      unreadLayers: 0,
    });
    const p = await images.preflightImagePublish({ source: { repository: `staging-${vdc}/app`, tag: 'v1' }, target: target(vdc) });
    expect(p.scan).toMatchObject({ severity: 'High', counts: { High: 1, Low: 1 } });
    expect(p.blocking).toEqual([{ id: 'CVE-2026-0001', ecosystem: 'unknown', package: 'openssl', version: '3.0.1', fixedVersion: '3.0.9', severity: 'High' }]);
    expect(p.errors.join('\n')).toMatch(/promotion blocked: .*CVE-2026-0001 High openssl 3\.0\.1 \(fixed in 3\.0\.9\)/);
    // The Harbor result is stored as the digest's latest scan.
    expect(await store.imageScans.latest(digest)).toMatchObject({ severity: 'High', feed: { name: 'harbor' } });

    const mark = harbor.requests.length;
    const over = await images.preflightImagePublish({
      source: { repository: `staging-${vdc}/app`, tag: 'v1' },
      target: target(vdc),
      scanOverride: { reason: 'accepted risk, fix scheduled' },
    });
    expect(over.errors).toEqual([]);
    expect(over.blocking.map((f) => f.id)).toEqual(['CVE-2026-0001']);
    // Scanned already: no second scan.
    expect(ops(mark)).not.toContain('scanArtifact');
    expect(harbor.problems()).toEqual([]);
  });

  it('a missing image is a preflight error, not a scan', async () => {
    const vdc = uniqueName('ph');
    const mark = harbor.requests.length;
    const p = await images.preflightImagePublish({ source: { repository: `staging-${vdc}/app`, tag: 'v9' }, target: target(vdc) });
    expect(p.errors).toEqual([expect.stringMatching(/does not exist/)]);
    expect(p.scan).toBeNull();
    expect(ops(mark)).not.toContain('scanArtifact');
    expect(harbor.problems()).toEqual([]);
  });
});
