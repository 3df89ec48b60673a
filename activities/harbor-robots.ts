import { ApplicationFailure } from '@temporalio/common';
import { HARBOR_ROBOT_FAILURES, type HarborRobotRotationInput, type HarborRobotRotationResult } from '../common/harbor-robot-rotation.ts';
import type { CredentialCipher } from '../store/credentials.ts';
import { harborRobotSecretAad } from '../store/harbor-robot-secrets.ts';
import type { Store } from '../store/index.ts';
import { RegistryNotFound, RegistryRefused, type RegistryDriver } from '../infra/registry/driver.ts';
import type { HarborDriver } from '../infra/registry/harbor-driver.ts';
import type { AnyRegistryRuntime } from '../infra/registry/runtime.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { pullSecretWriter } from './pull-secrets.ts';

export interface HarborRobotActivityDeps {
  store: Store;
  credentials?: CredentialCipher;
  registry?: AnyRegistryRuntime;
  /** With them, each rotated robot's new secret is written into its VDC's pull Secrets. */
  pools?: PoolClients;
}

const isHarbor = (d: RegistryDriver): d is RegistryDriver & HarborDriver => d.kind === 'harbor' && 'refreshRobot' in d && 'listProjects' in d;

/** The scheduled rotation of the configured Harbor's VDC robot accounts. */
export function createHarborRobotActivities(deps: HarborRobotActivityDeps) {
  const secrets = deps.store.harborRobotSecrets;
  const writer = deps.pools ? pullSecretWriter({ ...deps, pools: deps.pools }) : null;
  return {
    /**
     * Rotates every robot of every `vdc-*` project that expires within `windowDays` (never-expiring and disabled
     * robots are left alone): Harbor extends it to `durationDays` from now and issues a new secret, which is
     * sealed into `harbor_robot_secrets` before the next robot. Idempotent: a rerun finds the rotated robots far
     * from expiry. A robot Harbor refuses to update is reported in `failed`; network errors and 5xx are thrown
     * (the activity is retried). The result carries no secret.
     */
    async rotateExpiringHarborRobots(input: HarborRobotRotationInput): Promise<HarborRobotRotationResult> {
      const rt = deps.registry;
      if (!rt || !isHarbor(rt.driver))
        throw ApplicationFailure.nonRetryable('the worker registry is not Harbor (EDGEPORT_REGISTRY_DRIVER=harbor)', HARBOR_ROBOT_FAILURES.notHarbor);
      if (!deps.credentials)
        throw ApplicationFailure.nonRetryable(
          'the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY) to seal robot secrets with',
          HARBOR_ROBOT_FAILURES.noCipher,
        );
      const driver = rt.driver;
      const cipher = deps.credentials;
      const horizon = Math.floor(Date.now() / 1000) + input.windowDays * 86_400;
      const result: HarborRobotRotationResult = { checked: 0, rotated: [], failed: [] };
      const projects = (await driver.listProjects()).filter((p) => p.name.startsWith('vdc-'));
      for (const project of projects) {
        let robots;
        try {
          robots = await driver.listRobots(project.name);
        } catch (err) {
          if (err instanceof RegistryNotFound) continue; // project deleted meanwhile
          throw err;
        }
        for (const robot of robots) {
          result.checked++;
          if (robot.disabled || robot.expiresAt === -1 || robot.expiresAt > horizon) continue;
          try {
            const refreshed = await driver.refreshRobot(robot.id, input.durationDays);
            const id = `${rt.host}/${robot.id}`;
            await secrets.put({
              _id: id,
              name: refreshed.name,
              project: project.name,
              secret: cipher.seal(refreshed.secret, harborRobotSecretAad(id)),
              expiresAt: refreshed.expiresAt,
              rotatedAt: new Date(),
            });
            // The VDC's namespaces get the new secret at once (the old one stopped working); failures per namespace.
            const pullSecrets = writer ? await writer.writeAll(project.name.slice('vdc-'.length)) : undefined;
            result.rotated.push({
              id: robot.id,
              name: refreshed.name,
              project: project.name,
              expiresAt: refreshed.expiresAt,
              ...(pullSecrets ? { pullSecrets } : {}),
            });
          } catch (err) {
            if (err instanceof RegistryNotFound) continue; // robot deleted meanwhile
            if (err instanceof RegistryRefused) {
              result.failed.push({ id: robot.id, name: robot.name, reason: err.message });
              continue;
            }
            throw err;
          }
        }
      }
      return result;
    },
  };
}
