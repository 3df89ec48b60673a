import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryRuntime, type RegistryRuntime } from '../infra/registry/runtime.ts';
import { parseScope, registryTokenSigner, type RegistryAccess } from '../infra/registry/token-signer.ts';
import { publishRepositories, type ImagePublishPreview, type ImagePublishRequest } from '../common/image-publish.ts';
import type { ImagePublishInput } from '../common/image-publish-workflow.ts';
import { ROLES, type Role } from '../common/roles.ts';
import { decideUpdate, stateQuery } from '../common/ticket-workflow.ts';
import { decideImagePublish } from '../policies/image-publish.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { buildImage, writeOciLayout } from '../stack/testing/oci-image.ts';
import { createTicketWorker, type TicketWorker } from '../worker/create-worker.ts';
import { imagePublishWorkflow } from './image-publish.ts';
import { testWorkerOptions } from '../stack/testing/workflow-bundle.ts';

/**
 * Image publish tickets against the real local registry: images pushed with Debian skopeo to a VDC's staging
 * repository, scanned by the local scanner from their real layers (demo advisory feed), promoted by digest.
 */
const run = promisify(execFile);
const requester = { sub: 'u-pub-req', name: 'Requester' };
const vdcAdmin = { sub: 'u-pub-adm', name: 'VDC Admin' };
const ops = { sub: 'u-pub-ops', name: 'Ops' };
const ops2 = { sub: 'u-pub-ops2', name: 'Ops Two' };

let env: TestWorkflowEnvironment;
let tw: TicketWorker;
let taskQueue: string;
let workerRun: Promise<void>;
let work: string;
let rt: RegistryRuntime;
const vdcId = uniqueName('pub');
const registryConfig = () => ({
  url: stackEnv('EDGEPORT_REGISTRY_URL'),
  tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
  tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
  advisoryFeed: stackEnv('EDGEPORT_ADVISORY_FEED'),
});

const DPKG = (pkgs: [string, string][]): string =>
  pkgs.map(([p, v]) => `Package: ${p}\nStatus: install ok installed\nVersion: ${v}\nArchitecture: amd64\n`).join('\n');
/** Clean at High: only a Low finding (old tzdata). */
const cleanLayers: Record<string, string>[] = [
  {
    'var/lib/dpkg/status': DPKG([
      ['openssl', '3.0.15-1~deb12u1'],
      ['tzdata', '2023c-5'],
      ['bash', '5.2.15-2+b2'],
    ]),
  },
];
/** Critical (openssl) and High (lodash in an npm lock file of the second layer). */
const vulnerableLayers: Record<string, string>[] = [
  {
    'var/lib/dpkg/status': DPKG([
      ['openssl', '3.0.11-1~deb12u2'],
      ['zlib1g', '1:1.2.13.dfsg-1'],
    ]),
  },
  {
    'srv/app/package-lock.json': JSON.stringify({
      lockfileVersion: 3,
      packages: { '': { name: 'app' }, 'node_modules/lodash': { version: '4.17.20' }, 'node_modules/minimist': { version: '1.2.8' } },
    }),
  },
];

/** Pushes with skopeo using a bearer token Edgeport's key signs (the registry trusts it; no API needed). */
async function skopeoPush(repository: string, tag: string, layers: Record<string, string>[], archs = ['amd64']): Promise<void> {
  const signer = registryTokenSigner({
    keyPem: readFileSync(registryConfig().tokenKeyFile, 'utf8'),
    certPem: readFileSync(registryConfig().tokenCertFile, 'utf8'),
    issuer: 'edgeport',
    service: 'edgeport-registry',
  });
  const token = signer.sign(
    'u-pub-req',
    [`repository:${repository}:pull,push`].map(parseScope).filter((s): s is RegistryAccess => s !== null),
  ).token;
  const dir = mkdtempSync(join(work, 'layout-'));
  writeOciLayout(dir, buildImage({ archs, layers }), tag);
  const host = `localhost:${new URL(registryConfig().url).port}`;
  await run(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--all',
      '--dest-tls-verify=false',
      '--dest-registry-token',
      token,
      `oci:${dir}:${tag}`,
      `docker://${host}/${repository}:${tag}`,
    ],
    { timeout: 60_000 },
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgeport-publish-'));
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
  });
  taskQueue = uniqueName('wf-publish');
  tw = await createTicketWorker({
    temporalAddress: 'unused',
    temporalNamespace: env.namespace ?? 'default',
    mongoUrl: stackEnv('EDGEPORT_MONGO_URL'),
    credentials: { key: stackEnv('EDGEPORT_CREDENTIALS_KEY'), previousKeys: [] },
    taskQueue,
    connection: env.nativeConnection,
    client: env.client,
    registry: registryConfig(),
    worker: testWorkerOptions(),
  });
  rt = createRegistryRuntime(registryConfig());
  workerRun = tw.worker.run();
}, 120_000);

afterAll(async () => {
  tw?.worker.shutdown();
  await workerRun;
  await tw?.shutdown();
  await env?.teardown();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function newTicket(
  payload: Omit<ImagePublishRequest, 'type' | 'vdcId'>,
  requesterRoles: Role[] = [ROLES.vdcUser],
  who = requester,
): Promise<ImagePublishInput> {
  const decision = decideImagePublish({ visibility: payload.target.visibility, scanOverride: payload.scanOverride !== undefined, requesterRoles });
  if (decision.outcome === 'deny') throw new Error(`test setup: denied: ${decision.reason}`);
  const repos = publishRepositories(vdcId, payload);
  const vdc = { id: vdcId, name: vdcId, domainId: 'pub-domain', namespace: `vdc-${vdcId}`, pool: 'local' };
  const input: ImagePublishInput = {
    ticketId: uniqueName('tkt'),
    requester: who,
    vdc,
    policy: decision,
    approvalTimeoutMs: 3_600_000,
    source: { repository: repos.source, tag: repos.sourceTag },
    target: { repository: repos.target, tag: repos.targetTag, visibility: payload.target.visibility },
    ...(payload.scanOverride ? { scanOverride: payload.scanOverride } : {}),
  };
  await tw.store.tickets.insertOrGet({
    _id: input.ticketId,
    type: 'image-publish',
    status: 'submitted',
    requester: who,
    vdc,
    payload: { type: 'image-publish', vdcId, ...payload },
    policy: decision,
    approvals: [],
    currentStep: null,
    approvalTimeoutMs: input.approvalTimeoutMs,
  });
  return input;
}

const start = (input: ImagePublishInput) => env.client.workflow.start(imagePublishWorkflow, { taskQueue, workflowId: input.ticketId, args: [input] });

async function pending(handle: Awaited<ReturnType<typeof start>>) {
  for (;;) {
    const s = await handle.query(stateQuery);
    if (s.status === 'pending_approval' && s.preview) return s;
    if (s.status === 'failed') throw new Error(`ticket failed: ${s.error}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('imagePublishWorkflow (real registry, skopeo pushes, local scanner)', () => {
  it('promotes a clean staging image to the VDC private repository by digest; the scan is in the preview', async () => {
    await skopeoPush(`staging-${vdcId}/web`, 'v1', cleanLayers, ['amd64', 'arm64']);
    const input = await newTicket({ source: { name: 'web', tag: 'v1' }, target: { visibility: 'private' } });
    const handle = await start(input);
    const state = await pending(handle);
    const preview = state.preview as ImagePublishPreview;
    expect(preview.source).toMatchObject({ repository: `staging-${vdcId}/web`, tag: 'v1', digest: expect.stringMatching(/^sha256:/) });
    expect(preview.image?.multiArch).toBe(true);
    expect(preview.image?.platforms.map((p) => p.architecture).sort()).toEqual(['amd64', 'arm64']);
    expect(preview.scan).toMatchObject({ severity: 'Low', packages: { debian: 3 }, feed: { name: 'edgeport-demo-feed' } });
    expect(preview.scan?.findings.map((f) => f.id)).toEqual(['DEMO-2026-0003']);
    expect(preview.blocking).toEqual([]);
    expect(preview.target).toMatchObject({ repository: `vdc-${vdcId}/web`, tag: 'v1', visibility: 'private' });

    await handle.executeUpdate(decideUpdate, { args: [{ actor: vdcAdmin, actorRoles: [ROLES.vdcAdmin], decision: 'approve', previewHash: preview.hash }] });
    const result = await handle.result();
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'completed', digest: preview.source.digest });
    const promoted = await rt.driver.getImage(`vdc-${vdcId}/web`, 'v1');
    expect(promoted.digest).toBe(preview.source.digest);
    expect(await rt.driver.listRepositories(`vdc-${vdcId}`)).toContain(`vdc-${vdcId}/web`);
    expect((await tw.store.tickets.get(input.ticketId))?.status).toBe('completed');
    expect((await tw.store.imageScans.latest(promoted.digest))?.severity).toBe('Low');

    if (process.env.EDGEPORT_RECORD_FIXTURES === '1') {
      const history = await handle.fetchHistory();
      writeFileSync(join(import.meta.dirname, '__fixtures__', 'image-publish-approved.json'), historyToJSON(history));
    }
  }, 180_000);

  it('a High/Critical scan refuses promotion, listing the findings; nothing appears at the target', async () => {
    await skopeoPush(`staging-${vdcId}/bad`, 'v1', vulnerableLayers);
    const input = await newTicket({ source: { name: 'bad', tag: 'v1' }, target: { visibility: 'private' } });
    const result = await (await start(input)).result();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/promotion blocked/);
    expect(result.error).toMatch(/DEMO-2026-0001 Critical openssl 3\.0\.11-1~deb12u2 \(fixed in 3\.0\.15-1~deb12u1\)/);
    expect(result.error).toMatch(/DEMO-2026-0006 High lodash 4\.17\.20/);
    const ticket = await tw.store.tickets.get(input.ticketId);
    const preview = ticket?.preview as ImagePublishPreview;
    expect(preview.blocking.map((f) => f.id)).toEqual(['DEMO-2026-0001', 'DEMO-2026-0006']);
    expect(preview.scan?.packages).toEqual({ debian: 2, npm: 2 });
    expect(await rt.driver.listTags(`vdc-${vdcId}/bad`)).toEqual([]);
  }, 180_000);

  it("an operations admin's override (with reason) lets it through to public after VDC admin and another ops admin approve", async () => {
    await skopeoPush(`staging-${vdcId}/bad2`, 'v1', vulnerableLayers);
    const input = await newTicket(
      {
        source: { name: 'bad2', tag: 'v1' },
        target: { visibility: 'public', name: `${vdcId}-bad2`, tag: 'stable' },
        scanOverride: { reason: 'accepted risk: fix scheduled, CVE not reachable' },
      },
      [ROLES.opsAdmin],
      ops,
    );
    expect(input.policy.chain.map((s) => s.role)).toEqual([ROLES.vdcAdmin, ROLES.opsAdmin]);
    const handle = await start(input);
    const state = await pending(handle);
    const preview = state.preview as ImagePublishPreview;
    expect(preview.override).toEqual({ reason: 'accepted risk: fix scheduled, CVE not reachable' });
    expect(preview.blocking.length).toBe(2);
    await handle.executeUpdate(decideUpdate, { args: [{ actor: vdcAdmin, actorRoles: [ROLES.vdcAdmin], decision: 'approve' }] });
    await handle.executeUpdate(decideUpdate, { args: [{ actor: ops2, actorRoles: [ROLES.opsAdmin], decision: 'approve', comment: 'override accepted' }] });
    const result = await handle.result();
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'completed' });
    expect((await rt.driver.getImage(`public/${vdcId}-bad2`, 'stable')).digest).toBe(preview.source.digest);
  }, 180_000);

  it('fails at preflight when the staging image does not exist', async () => {
    const input = await newTicket({ source: { name: 'ghost', tag: 'v9' }, target: { visibility: 'private' } });
    const result = await (await start(input)).result();
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.error).toMatch(/staging-.*\/ghost:v9 does not exist/);
  }, 60_000);
});
