import { ApiException, PatchStrategy, type KubernetesObject, type V1Secret, type V1ServiceAccount } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { vdcRegistryProjects } from '../common/harbor-vdc-provision.ts';
import { PULL_CREDENTIAL_FAILURES, PULL_SECRET_NAME, pullCredentialUsername, type PullSecretOutcome } from '../common/pull-credentials.ts';
import { vdcPools } from '../common/tenancy.ts';
import { CredentialsUnreadableError, type CredentialCipher } from '../store/credentials.ts';
import { harborRobotSecretAad } from '../store/harbor-robot-secrets.ts';
import type { Store } from '../store/index.ts';
import { FIELD_MANAGER, isNotFound, mapKubeError, type KubeClients } from '../infra/kube/client.ts';
import { VDC_NOT_FOUND, type PoolClients } from '../infra/kube/pool-clients.ts';
import { applyObject, readNamespace, SPACE_LABELS } from '../infra/kube/space.ts';
import type { HarborDriver } from '../infra/registry/harbor-driver.ts';
import type { AnyRegistryRuntime, HarborProvisioningSettings } from '../infra/registry/runtime.ts';

export interface PullSecretDeps {
  pools: PoolClients;
  store: Store;
  credentials?: CredentialCipher;
  registry?: AnyRegistryRuntime;
}

/** The Harbor driver and settings when Harbor is the worker's registry (as `harborOf`, without importing the provisioning). */
function harborOf(rt: AnyRegistryRuntime | undefined): { driver: HarborDriver; settings: HarborProvisioningSettings } | null {
  if (!rt?.harbor || rt.driver.kind !== 'harbor' || !('refreshRobot' in rt.driver)) return null;
  return { driver: rt.driver as unknown as HarborDriver, settings: rt.harbor };
}

/** What goes into a VDC's pull Secrets (in the worker's memory only; never returned by an activity). */
type PullAuth =
  { driver: 'local' | 'harbor'; host: string; username: string; password: string } | { driver: 'none' } | { driver: 'harbor'; pending: true; host: string };

/** The `.dockerconfigjson` of one registry login (what kubelet and `skopeo --authfile` read). */
export function dockerConfigJson(host: string, username: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') } } });
}

/**
 * Writes a VDC's pull Secret and the `default` ServiceAccount's reference to it in its namespaces. Shared by the
 * lifecycle and space activities and by the Harbor robot rotation (which rewrites the Secrets of a rotated robot).
 */
export function pullSecretWriter(deps: PullSecretDeps) {
  const { store, pools } = deps;
  const credentials = store.pullCredentials;
  const robotSecrets = store.harborRobotSecrets;

  function cipher(): CredentialCipher {
    if (!deps.credentials)
      throw ApplicationFailure.nonRetryable(
        'the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY) for pull credentials',
        PULL_CREDENTIAL_FAILURES.noCipher,
      );
    return deps.credentials;
  }

  function open(sealed: Parameters<CredentialCipher['open']>[0], aad: string): string {
    try {
      return cipher().open(sealed, aad);
    } catch (err) {
      if (err instanceof CredentialsUnreadableError) throw ApplicationFailure.nonRetryable(err.message, PULL_CREDENTIAL_FAILURES.unreadable);
      throw err;
    }
  }

  /** The login the VDC's Secrets carry: its local pull credential, or its Harbor robot. */
  async function authOf(vdcId: string): Promise<PullAuth> {
    const rt = deps.registry;
    if (!rt) return { driver: 'none' };
    const harbor = harborOf(rt);
    if (harbor) {
      const doc = await robotSecrets.ofProject(rt.host, vdcRegistryProjects(vdcId).private);
      if (!doc) return { driver: 'harbor', pending: true, host: rt.host };
      return { driver: 'harbor', host: rt.host, username: doc.name, password: open(doc.secret, harborRobotSecretAad(doc._id)) };
    }
    const c = cipher();
    await credentials.ensure(vdcId, c);
    const opened = await credentials.open(vdcId, c).catch((err: unknown) => {
      if (err instanceof CredentialsUnreadableError) throw ApplicationFailure.nonRetryable(err.message, PULL_CREDENTIAL_FAILURES.unreadable);
      throw err;
    });
    if (!opened) throw new Error(`pull credential of VDC ${vdcId} vanished while it was read`);
    return { driver: 'local', host: rt.host, username: pullCredentialUsername(vdcId), password: opened.secret };
  }

  /**
   * Adds the pull Secret to the namespace's `default` ServiceAccount (keeping any other entries), with the
   * ServiceAccount's resourceVersion as precondition so a concurrent writer is not overwritten (409 → retried).
   * The ServiceAccount controller makes `default` shortly after the namespace: until then this throws (retried).
   */
  async function referenceFromDefaultServiceAccount(kube: KubeClients, namespace: string): Promise<void> {
    let sa: V1ServiceAccount;
    try {
      sa = await kube.core.readNamespacedServiceAccount({ name: 'default', namespace });
    } catch (err) {
      if (isNotFound(err)) throw new Error(`the default ServiceAccount of ${namespace} does not exist yet`);
      return mapKubeError(err, `read ServiceAccount ${namespace}/default`);
    }
    const current = sa.imagePullSecrets ?? [];
    if (current.some((r) => r.name === PULL_SECRET_NAME)) return;
    const patch = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace, resourceVersion: sa.metadata?.resourceVersion },
      imagePullSecrets: [...current, { name: PULL_SECRET_NAME }],
    };
    try {
      await kube.objects.patch(patch as KubernetesObject, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) throw new Error(`ServiceAccount ${namespace}/default changed meanwhile; retrying`);
      mapKubeError(err, `patch ServiceAccount ${namespace}/default`);
    }
  }

  /** Applies the Secret (server-side apply, Edgeport's field manager) and the ServiceAccount reference in one namespace. */
  async function writeNamespace(kube: KubeClients, vdcId: string, namespace: string, auth: PullAuth): Promise<PullSecretOutcome> {
    if (auth.driver === 'none') return { driver: 'none', outcome: 'skipped' };
    if ('pending' in auth) return { driver: 'harbor', outcome: 'pending', registry: auth.host };
    const ns = await readNamespace(kube, namespace);
    if (!ns || ns.metadata?.deletionTimestamp) return { driver: auth.driver, outcome: 'absent', registry: auth.host };
    const secret: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: PULL_SECRET_NAME, namespace, labels: { [SPACE_LABELS.vdc]: vdcId, [SPACE_LABELS.managedBy]: 'edgeport' } },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerConfigJson(auth.host, auth.username, auth.password)).toString('base64') },
    };
    await applyObject(kube, secret as KubernetesObject);
    await referenceFromDefaultServiceAccount(kube, namespace);
    return { driver: auth.driver, outcome: 'applied', registry: auth.host };
  }

  return {
    authOf,
    writeNamespace,
    /** One namespace of the VDC on `pool` (or, without it, wherever the namespace lives). */
    async write(input: { vdcId: string; namespace: string; pool?: string }): Promise<PullSecretOutcome> {
      const kube = input.pool ? await pools.forPool(input.pool) : await pools.forNamespace(input.vdcId, input.namespace);
      return writeNamespace(kube, input.vdcId, input.namespace, await authOf(input.vdcId));
    },
    /**
     * Every namespace of the VDC (default namespaces on each pool, active application spaces). Failures are
     * collected per namespace, not thrown, so one unreachable pool does not stop the others.
     */
    async writeAll(vdcId: string): Promise<{ namespace: string; outcome: string }[]> {
      let vdc, auth: PullAuth;
      try {
        vdc = await store.vdcs.get(vdcId);
        if (!vdc || vdc.provisioning?.state === 'deleting') return [];
        auth = await authOf(vdcId);
      } catch (err) {
        return [{ namespace: '*', outcome: `failed: ${err instanceof Error ? err.message : String(err)}` }];
      }
      const targets = [
        ...vdcPools(vdc).map((p) => ({ namespace: p.namespace, pool: p.pool })),
        ...(vdc.spaces ?? []).filter((s) => s.status === 'active').map((s) => ({ namespace: s.namespace, pool: s.pool ?? vdc.pool })),
      ];
      const out: { namespace: string; outcome: string }[] = [];
      for (const t of targets) {
        try {
          out.push({ namespace: t.namespace, outcome: (await writeNamespace(await pools.forPool(t.pool), vdcId, t.namespace, auth)).outcome });
        } catch (err) {
          out.push({ namespace: t.namespace, outcome: `failed: ${err instanceof Error ? err.message : String(err)}` });
        }
      }
      return out;
    },
  };
}

/** Activities of the pull credentials: idempotent, their inputs and results carry no secret. */
export function createPullSecretActivities(deps: PullSecretDeps) {
  const writer = pullSecretWriter(deps);
  const credentials = deps.store.pullCredentials;
  const robotSecrets = deps.store.harborRobotSecrets;
  return {
    /**
     * Makes the VDC's pull credential exist (local registry: a random secret, sealed and hashed; Harbor: its robot
     * is made by the Harbor provisioning). With `rotationId`, replaces it once for that rotation request (local: a
     * new secret, the old one refused by the token service from then on; Harbor: the robot's secret is refreshed and
     * sealed). A retry with the same `rotationId` does not rotate again.
     * @throws `PullCredentialNoKey`, `VdcNotFound`
     */
    async ensureVdcPullCredential(input: {
      vdcId: string;
      rotationId?: string;
    }): Promise<{ driver: 'local' | 'harbor' | 'none'; created: boolean; rotated: boolean }> {
      const rt = deps.registry;
      if (!rt) return { driver: 'none', created: false, rotated: false };
      if (!(await deps.store.vdcs.get(input.vdcId))) throw ApplicationFailure.nonRetryable(`VDC ${input.vdcId} does not exist`, VDC_NOT_FOUND);
      if (!deps.credentials)
        throw ApplicationFailure.nonRetryable(
          'the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY) for pull credentials',
          PULL_CREDENTIAL_FAILURES.noCipher,
        );
      const harbor = harborOf(rt);
      if (harbor) {
        if (!input.rotationId) return { driver: 'harbor', created: false, rotated: false };
        const doc = await robotSecrets.ofProject(rt.host, vdcRegistryProjects(input.vdcId).private);
        if (!doc || doc.rotationId === input.rotationId) return { driver: 'harbor', created: false, rotated: false };
        const robotId = Number(doc._id.slice(doc._id.lastIndexOf('/') + 1));
        const refreshed = await harbor.driver.refreshRobot(robotId, harbor.settings.robotDurationDays);
        await robotSecrets.put({
          _id: doc._id,
          name: refreshed.name,
          project: doc.project,
          secret: deps.credentials.seal(refreshed.secret, harborRobotSecretAad(doc._id)),
          expiresAt: refreshed.expiresAt,
          rotatedAt: new Date(),
          rotationId: input.rotationId,
        });
        return { driver: 'harbor', created: false, rotated: true };
      }
      if (input.rotationId) return { driver: 'local', created: false, ...(await credentials.rotate(input.vdcId, input.rotationId, deps.credentials)) };
      return { driver: 'local', rotated: false, ...(await credentials.ensure(input.vdcId, deps.credentials)) };
    },

    /**
     * Server-side applies the VDC's `edgeport-pull` Secret (`kubernetes.io/dockerconfigjson`) in one of its
     * namespaces and makes the namespace's `default` ServiceAccount list it in `imagePullSecrets`. A namespace that
     * is gone or terminating is `absent`; with Harbor before its robot exists, `pending` (the Harbor provisioning
     * writes the Secrets once it sealed the robot). Applying again changes nothing.
     */
    async applyVdcPullSecret(input: { vdcId: string; namespace: string; pool?: string }): Promise<PullSecretOutcome> {
      return writer.write(input);
    },

    /** Forgets the VDC's local pull credential (its namespaces, and the Secrets in them, go with the VDC). Idempotent. */
    async removeVdcPullCredential(input: { vdcId: string }): Promise<{ removed: boolean }> {
      return { removed: await credentials.remove(input.vdcId) };
    },
  };
}
export type PullSecretActivities = ReturnType<typeof createPullSecretActivities>;
