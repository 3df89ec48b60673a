import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients, type KubeClients } from '../kube/client.ts';
import { stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { buildImage, pushImage } from '../../stack/testing/oci-image.ts';
import { openStore, type Store } from '../../store/index.ts';
import { imageDeployProblems, IMAGE_RULES, workloadArchitectures, type DeployGateDeps } from './deploy-gate.ts';
import { cosignSignatureTag } from './driver.ts';
import { IMAGE_SETTINGS_DEFAULTS } from './image-settings.ts';
import { rescanRegistry } from './image-maintenance.ts';
import { createRegistryRuntime, type RegistryRuntime } from './runtime.ts';

/**
 * The deploy image rules and the whole-registry rescan against the real local
 * registry, MongoDB and the stack's cluster (its kwok nodes are amd64 and arm64).
 */
let rt: RegistryRuntime;
let store: Store;
let kube: KubeClients;
const vdc = uniqueName('gate');
const other = uniqueName('gateo');
const DPKG = (pkgs: [string, string][]): string => pkgs.map(([p, v]) => `Package: ${p}\nStatus: install ok installed\nVersion: ${v}\n`).join('\n');
const clean = [{ 'var/lib/dpkg/status': DPKG([['openssl', '3.0.15-1~deb12u1']]) }];
const vulnerable = [{ 'var/lib/dpkg/status': DPKG([['openssl', '3.0.11-1~deb12u2']]) }];

const gate = (policy: Partial<DeployGateDeps['policy']> = {}): DeployGateDeps => ({
  driver: rt.driver,
  scans: store.imageScans,
  registryHost: rt.host,
  policy: { ...IMAGE_SETTINGS_DEFAULTS.deploy, ...policy },
});
const ref = (repository: string, tag = 'v1') => `localhost:${new URL(stackEnv('EDGEPORT_REGISTRY_URL')).port}/${repository}:${tag}`;

async function scan(repository: string): Promise<void> {
  const image = await rt.driver.getImage(repository, 'v1');
  const { scanImageContent } = await import('./scanner.ts');
  await store.imageScans.save(await scanImageContent(image, (r, d) => rt.driver.readBlob(r, d), rt.feed!));
}

beforeAll(async () => {
  rt = createRegistryRuntime({
    url: stackEnv('EDGEPORT_REGISTRY_URL'),
    tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
    tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
    advisoryFeed: stackEnv('EDGEPORT_ADVISORY_FEED'),
  });
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  kube = createKubeClients(stackEnv('EDGEPORT_KUBECONFIG'));
  for (const id of [vdc, other])
    await store.vdcs.upsert({ _id: id, name: id, domainId: 'gate-domain', namespace: `vdc-${id}`, namespaceStatus: 'active', pool: 'local', quota: {} });
  await pushImage(rt.driver, `vdc-${vdc}/multi`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: clean }));
  await pushImage(rt.driver, `vdc-${vdc}/amd`, 'v1', buildImage({ archs: ['amd64'], layers: clean }));
  await pushImage(rt.driver, `vdc-${vdc}/bad`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: vulnerable }));
  await pushImage(rt.driver, `vdc-${vdc}/unscanned`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: clean }));
  await pushImage(rt.driver, `vdc-${other}/theirs`, 'v1', buildImage({ archs: ['amd64'], layers: clean }));
  for (const r of ['multi', 'amd', 'bad']) await scan(`vdc-${vdc}/${r}`);
}, 120_000);

afterAll(async () => {
  await store?.close();
});

describe('deploy image rules', () => {
  it('the nodes a workload may run on: every architecture of the pool, or those its nodeSelector picks', async () => {
    expect(await workloadArchitectures(kube.core, 'local', undefined)).toEqual(expect.arrayContaining(['amd64', 'arm64']));
    expect(await workloadArchitectures(kube.core, 'local', { 'kubernetes.io/arch': 'arm64' })).toEqual(['arm64']);
  });

  it('refuses a missing scan, a blocking finding, a missing architecture, another VDC and a missing image; names the image field', async () => {
    const arches = ['amd64', 'arm64'];
    const problems = await imageDeployProblems(
      gate(),
      vdc,
      [
        { image: ref(`vdc-${vdc}/multi`) },
        { image: ref(`vdc-${vdc}/unscanned`) },
        { image: ref(`vdc-${vdc}/bad`) },
        { image: ref(`vdc-${vdc}/amd`) },
        { image: ref(`vdc-${other}/theirs`) },
        { image: ref(`vdc-${vdc}/nothere`) },
        { image: 'docker.io/library/nginx:1.27' },
      ],
      { arches },
    );
    expect(problems.map((p) => [p.field, p.rule])).toEqual([
      ['workload.containers[1].image', IMAGE_RULES.scan],
      ['workload.containers[2].image', IMAGE_RULES.scan],
      ['workload.containers[3].image', IMAGE_RULES.arch],
      ['workload.containers[4].image', IMAGE_RULES.otherVdc],
      ['workload.containers[5].image', IMAGE_RULES.notFound],
    ]);
    expect(problems[0]!.message).toMatch(/^workload\.containers\[1\]\.image: image rule image-scan: .*no scan result/);
    expect(problems[1]!.message).toMatch(/DEMO-2026-0001 Critical openssl/);
    expect(problems[2]!.message).toMatch(/has no arm64 image \(it has amd64\)/);
    // Pinned to amd64 nodes the amd64-only image fits; the Critical finding still blocks at a Critical threshold.
    expect(await imageDeployProblems(gate(), vdc, [{ image: ref(`vdc-${vdc}/amd`) }], { arches: ['amd64'] })).toEqual([]);
    expect((await imageDeployProblems(gate({ blockSeverity: 'Critical' }), vdc, [{ image: ref(`vdc-${vdc}/bad`) }])).map((p) => p.rule)).toEqual([
      IMAGE_RULES.scan,
    ]);
  });

  it('external images: allowed by default, refused when the setting says refuse', async () => {
    expect(await imageDeployProblems(gate(), vdc, [{ image: 'nginx:1.27' }])).toEqual([]);
    const refused = await imageDeployProblems(gate({ external: 'refuse' }), vdc, [{ image: 'nginx:1.27' }]);
    expect(refused.map((p) => [p.field, p.rule])).toEqual([['workload.containers[0].image', IMAGE_RULES.external]]);
  });

  it('a signature is required only when the setting says so; a cosign signature tag satisfies it', async () => {
    const repo = `vdc-${vdc}/multi`;
    const { digest } = await rt.driver.getImage(repo, 'v1');
    expect(await rt.driver.signature!(repo, digest)).toEqual({ signed: false });
    const refused = await imageDeployProblems(gate({ requireSignature: true }), vdc, [{ image: ref(repo) }]);
    expect(refused.map((p) => p.rule)).toEqual([IMAGE_RULES.signature]);
    expect(refused[0]!.message).toMatch(/image rule image-signature-required: .* is not signed/);
    await pushImage(rt.driver, repo, cosignSignatureTag(digest), buildImage({ archs: ['amd64'], layers: [{ 'sig.json': '{}' }] }));
    expect(await rt.driver.signature!(repo, digest)).toEqual({ signed: true });
    expect(await imageDeployProblems(gate({ requireSignature: true }), vdc, [{ image: ref(repo) }])).toEqual([]);
  });
});

describe('scheduled image jobs', () => {
  it('the whole-registry rescan scans every tagged image once per digest (signature tags are not images)', async () => {
    const before = await store.imageScans.latest((await rt.driver.getImage(`vdc-${vdc}/unscanned`, 'v1')).digest);
    expect(before).toBeNull();
    const result = await rescanRegistry(rt, store);
    expect(result.failed).toBe(0);
    expect(result.scanned).toBeGreaterThanOrEqual(5);
    expect((await store.imageScans.latest((await rt.driver.getImage(`vdc-${vdc}/unscanned`, 'v1')).digest))?.severity).toBe('None');
  }, 120_000);
});
