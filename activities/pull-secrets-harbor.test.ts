import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PULL_SECRET_NAME } from '../common/pull-credentials.ts';
import { seedVdc } from '../stack/seed.ts';
import { startFakeHarbor, type FakeHarbor } from '../stack/testing/harbor-contract.ts';
import { stackEnv, testPoolClients, uniqueName } from '../stack/testing/env.ts';
import { credentialCipher } from '../store/credentials.ts';
import { HARBOR_ROBOT_SECRETS_COLLECTION } from '../store/harbor-robot-secrets.ts';
import { openStore, type Store } from '../store/index.ts';
import { createHarborProvisioningActivities } from './harbor-provisioning.ts';
import { createHarborRobotActivities } from './harbor-robots.ts';
import { createKubeClients } from '../infra/kube/client.ts';
import { createPullSecretActivities } from './pull-secrets.ts';
import { harborDriver } from '../infra/registry/harbor-driver.ts';
import { createRegistryRuntime, type AnyRegistryRuntime } from '../infra/registry/runtime.ts';

/**
 * Pull Secrets with Harbor as the registry: the Harbor client runs against the contract server (Harbor's published
 * v2.0 OpenAPI subset, every request and response validated; Harbor itself cannot run here), the Secrets land on
 * the stack's real kube-apiserver. The VDC's robot (pull only) is the login; a rotated robot's new secret replaces it
 * in the namespace; the project refuses vulnerable pulls (`prevent_vul`), which is where Harbor enforces blocked images.
 */
let harbor: FakeHarbor;
let store: Store;
let rt: AnyRegistryRuntime;
const cipher = credentialCipher(stackEnv('EDGEPORT_CREDENTIALS_KEY'));
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const vdcs: string[] = [];

async function loginIn(namespace: string): Promise<{ host: string; username: string; password: string }> {
  const s = await admin.core.readNamespacedSecret({ name: PULL_SECRET_NAME, namespace });
  expect(s.type).toBe('kubernetes.io/dockerconfigjson');
  const auths = (
    JSON.parse(Buffer.from(s.data!['.dockerconfigjson']!, 'base64').toString('utf8')) as { auths: Record<string, { username: string; password: string }> }
  ).auths;
  const [host, e] = Object.entries(auths)[0]!;
  return { host, username: e.username, password: e.password };
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
});

afterAll(async () => {
  for (const id of vdcs) await store?.vdcs.remove(id);
  await store?.testing
    .collection(HARBOR_ROBOT_SECRETS_COLLECTION)
    .deleteMany({ _id: { $regex: `^${new URL(harbor.url).host.replace(/\./g, '\\.')}/` } as never });
  await store?.close();
  await harbor?.close();
});

describe('pull Secrets with Harbor (contract server + real kube-apiserver)', () => {
  it("writes the VDC's robot as the namespace's pull login, rewrites it when the robot rotates, and rotates once per request", async () => {
    const vdcId = uniqueName('phb');
    vdcs.push(vdcId);
    const namespace = `vdc-${vdcId}`;
    await seedVdc(store, admin, { id: vdcId, name: vdcId, domainId: 'pull-harbor', quota: { cpu: 1, memoryGi: 1, pods: 2 } });
    // The ServiceAccount controller makes `default` shortly after the namespace (the activity retries until then).
    for (let i = 0; i < 100 && !(await admin.core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => null)); i++)
      await new Promise((r) => setTimeout(r, 100));
    const pools = testPoolClients(store);
    const pull = createPullSecretActivities({ pools, store, credentials: cipher, registry: rt });

    // Before Harbor provisioning sealed a robot there is nothing to write yet.
    expect(await pull.applyVdcPullSecret({ vdcId, namespace })).toEqual({ driver: 'harbor', outcome: 'pending', registry: rt.host });

    const provisioned = await createHarborProvisioningActivities({ store, credentials: cipher, registry: rt, pools }).provisionVdcRegistry({ vdcId });
    expect(provisioned.pullSecrets).toEqual([{ namespace, outcome: 'applied' }]);
    const robot = provisioned.robot!;
    expect(JSON.stringify(provisioned)).not.toContain(harbor.robot(robot.id)!.secret);
    const first = await loginIn(namespace);
    expect(first).toEqual({ host: rt.host, username: robot.name, password: harbor.robot(robot.id)!.secret });
    expect((await admin.core.readNamespacedServiceAccount({ name: 'default', namespace })).imagePullSecrets).toEqual([{ name: PULL_SECRET_NAME }]);
    // The robot may pull only; its project refuses vulnerable images at pull (Harbor's `prevent_vul`).
    expect(robot.name).toContain(`vdc-${vdcId}`);
    expect(await harborDriver({ url: harbor.url, username: harbor.username, password: harbor.password }).getNamespace(namespace)).toMatchObject({
      preventVulnerable: { enabled: true, severity: 'high' },
    });

    // Applying again changes nothing.
    expect(await pull.applyVdcPullSecret({ vdcId, namespace })).toEqual({ driver: 'harbor', outcome: 'applied', registry: rt.host });
    expect(await loginIn(namespace)).toEqual(first);

    // The scheduled robot rotation (robots expiring within the window) writes the new secret into the namespace.
    const rotation = await createHarborRobotActivities({ store, credentials: cipher, registry: rt, pools }).rotateExpiringHarborRobots({
      windowDays: 31,
      durationDays: 30,
    });
    expect(rotation.rotated).toEqual([expect.objectContaining({ id: robot.id, pullSecrets: [{ namespace, outcome: 'applied' }] })]);
    const second = await loginIn(namespace);
    expect(second.password).toBe(harbor.robot(robot.id)!.secret);
    expect(second.password).not.toBe(first.password);

    // An operator's rotation request refreshes the robot once per request id, however often the activity runs.
    const rotationId = randomBytes(8).toString('hex');
    expect(await pull.ensureVdcPullCredential({ vdcId, rotationId })).toEqual({ driver: 'harbor', created: false, rotated: true });
    expect(await pull.ensureVdcPullCredential({ vdcId, rotationId })).toEqual({ driver: 'harbor', created: false, rotated: false });
    await pull.applyVdcPullSecret({ vdcId, namespace });
    const third = await loginIn(namespace);
    expect(third.password).toBe(harbor.robot(robot.id)!.secret);
    expect(third.password).not.toBe(second.password);
    expect(harbor.problems()).toEqual([]);
  });
});
