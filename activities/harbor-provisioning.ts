import { ApplicationFailure } from '@temporalio/common';
import type { ScanSeverity } from '../common/image-scan.ts';
import {
  HARBOR_PROVISION_FAILURES,
  vdcRegistryProjects,
  vdcRobotName,
  type HarborVdcProvisionInput,
  type HarborVdcProvisionResult,
  type ProvisionOutcome,
} from '../common/harbor-vdc-provision.ts';
import type { CredentialCipher } from '../store/credentials.ts';
import { harborRobotSecretAad } from '../store/harbor-robot-secrets.ts';
import type { Store } from '../store/index.ts';
import { RegistryRefused, type RegistryDriver, type RegistryNamespace, type RobotAccount } from '../infra/registry/driver.ts';
import type { HarborDriver } from '../infra/registry/harbor-driver.ts';
import type { AnyRegistryRuntime, HarborProvisioningSettings } from '../infra/registry/runtime.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { pullSecretWriter } from './pull-secrets.ts';

export interface HarborProvisioningDeps {
  store: Store;
  credentials?: CredentialCipher;
  registry?: AnyRegistryRuntime;
  /** With them, a newly sealed robot secret is written into the VDC's pull Secrets at once. */
  pools?: PoolClients;
}

type Harbor = RegistryDriver & HarborDriver;
const isHarbor = (d: RegistryDriver): d is Harbor => d.kind === 'harbor' && 'refreshRobot' in d && 'listProjects' in d;

/**
 * Harbor's `prevent_vul` severity for Edgeport's deploy block severity: Harbor refuses pulls of images with a
 * finding at or above it, as the deploy gate does (`None`/`Unknown` have no Harbor equivalent: `low`).
 */
export function harborPreventSeverity(block: ScanSeverity): NonNullable<RegistryNamespace['preventVulnerable']>['severity'] {
  if (block === 'Critical') return 'critical';
  if (block === 'High') return 'high';
  if (block === 'Medium') return 'medium';
  return 'low';
}

/** The settings Edgeport wants on one of its Harbor projects (`public` is public, every other one private). */
export function harborProjectSpec(name: string, rt: AnyRegistryRuntime, settings: HarborProvisioningSettings): RegistryNamespace {
  return {
    name,
    public: name === 'public',
    preventVulnerable: { enabled: true, severity: harborPreventSeverity(rt.deployPolicy.blockSeverity) },
    storageLimitBytes: settings.projectStorageBytes,
  };
}

/**
 * Makes the project exist with Edgeport's settings. A missing project is created with `public`, `prevent_vul` +
 * `severity`, `auto_scan` and the storage quota; an existing one whose visibility or `prevent_vul` differ gets its
 * metadata set again (`updated`); its quota is left as it is (an operator may have raised it in Harbor), so a
 * rerun writes nothing. `onlyIfMissing` leaves an existing project entirely alone (the promote path).
 */
export async function ensureHarborProject(driver: Harbor, spec: RegistryNamespace, opts: { onlyIfMissing?: boolean } = {}): Promise<ProvisionOutcome> {
  const existing = await driver.getNamespace(spec.name);
  if (!existing) {
    const { created } = await driver.ensureNamespace(spec);
    return created ? 'created' : 'unchanged';
  }
  if (opts.onlyIfMissing) return 'unchanged';
  const same =
    existing.public === spec.public &&
    existing.preventVulnerable?.enabled === spec.preventVulnerable?.enabled &&
    existing.preventVulnerable?.severity === spec.preventVulnerable?.severity;
  if (same) return 'unchanged';
  const { storageLimitBytes: _quotaKept, ...metadataOnly } = spec;
  await driver.ensureNamespace(metadataOnly);
  return 'updated';
}

/** The Harbor driver and its provisioning settings when Harbor is the worker's registry, else null. */
export function harborOf(rt: AnyRegistryRuntime | undefined): { driver: Harbor; settings: HarborProvisioningSettings } | null {
  if (!rt?.harbor || !isHarbor(rt.driver)) return null;
  return { driver: rt.driver, settings: rt.harbor };
}

/** Provisioning of a VDC's Harbor projects and robot account. */
export function createHarborProvisioningActivities(deps: HarborProvisioningDeps) {
  const secrets = deps.store.harborRobotSecrets;
  const writer = deps.pools ? pullSecretWriter({ ...deps, pools: deps.pools }) : null;
  /** Rewrites the VDC's pull Secrets after a new robot secret was sealed (failures per namespace, not thrown). */
  const pullSecretsOf = async (vdcId: string): Promise<Pick<HarborVdcProvisionResult, 'pullSecrets'>> =>
    writer ? { pullSecrets: await writer.writeAll(vdcId) } : {};

  /** Whether Edgeport holds a secret for the robot that the current keys open. */
  async function holdsSecret(host: string, robot: RobotAccount, cipher: CredentialCipher): Promise<boolean> {
    const id = `${host}/${robot.id}`;
    const doc = await secrets.get(id);
    if (!doc) return false;
    try {
      cipher.open(doc.secret, harborRobotSecretAad(id));
      return true;
    } catch {
      return false;
    }
  }

  return {
    /**
     * Ensures the VDC's Harbor projects (`vdc-<id>`, `staging-<id>`, `public`: `prevent_vul` at the deploy block
     * severity, `auto_scan`, storage quota on creation) and exactly one Edgeport robot in `vdc-<id>` (named
     * `edgeport-<id>`, pull only, expiring after the configured days) whose secret is sealed into
     * `harbor_robot_secrets` (id `<harbor host>/<robot id>`, as the rotation does). Idempotent: the robot is looked
     * up first; a rerun changes nothing; a robot whose secret Edgeport lost (or cannot open, or that expired) gets a
     * refreshed secret instead of a second robot; extra Edgeport robots of the VDC are deleted. The result carries
     * names and ids only. With the local registry it does nothing. Harbor 4xx → non-retryable `RegistryRefused`;
     * 5xx and network errors are thrown as they are (retried).
     */
    async provisionVdcRegistry(input: HarborVdcProvisionInput): Promise<HarborVdcProvisionResult> {
      const rt = deps.registry;
      const harbor = harborOf(rt);
      if (!rt || !harbor) return { driver: 'local', projects: [], robot: null, removedRobots: [] };
      if (!deps.credentials)
        throw ApplicationFailure.nonRetryable(
          'the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY) to seal robot secrets with',
          HARBOR_PROVISION_FAILURES.noCipher,
        );
      if (!(await deps.store.vdcs.get(input.vdcId)))
        throw ApplicationFailure.nonRetryable(`VDC ${input.vdcId} does not exist`, HARBOR_PROVISION_FAILURES.vdcNotFound);
      const cipher = deps.credentials;
      const { driver, settings } = harbor;
      const names = vdcRegistryProjects(input.vdcId);
      try {
        const projects: HarborVdcProvisionResult['projects'] = [];
        for (const name of [names.private, names.staging, names.public])
          projects.push({ name, outcome: await ensureHarborProject(driver, harborProjectSpec(name, rt, settings)) });

        const wanted = vdcRobotName(input.vdcId);
        const mine = (await driver.listRobots(names.private)).filter((r) => r.name === wanted || r.name.endsWith(`+${wanted}`)).sort((a, b) => a.id - b.id);
        let keep: RobotAccount | undefined;
        for (const r of mine) if (!keep && (await holdsSecret(rt.host, r, cipher))) keep = r;
        keep ??= mine[0];
        const removedRobots: number[] = [];
        for (const r of mine) {
          if (r === keep) continue;
          await driver.deleteRobot(r.id);
          removedRobots.push(r.id);
        }

        const seal = async (robot: { id: number; name: string; secret: string; expiresAt: number }): Promise<void> => {
          const id = `${rt.host}/${robot.id}`;
          await secrets.put({
            _id: id,
            name: robot.name,
            project: names.private,
            secret: cipher.seal(robot.secret, harborRobotSecretAad(id)),
            expiresAt: robot.expiresAt,
            rotatedAt: new Date(),
          });
        };
        if (!keep) {
          const created = await driver.createRobot(names.private, { name: wanted, durationDays: settings.robotDurationDays, actions: ['pull'] });
          await seal(created);
          return {
            driver: 'harbor',
            projects,
            robot: { id: created.id, name: created.name, project: names.private, expiresAt: created.expiresAt, outcome: 'created' },
            removedRobots,
            ...(await pullSecretsOf(input.vdcId)),
          };
        }
        const expired = keep.expiresAt !== -1 && keep.expiresAt <= Math.floor(Date.now() / 1000);
        if (expired || !(await holdsSecret(rt.host, keep, cipher))) {
          const refreshed = await driver.refreshRobot(keep.id, settings.robotDurationDays);
          await seal(refreshed);
          return {
            driver: 'harbor',
            projects,
            robot: { id: keep.id, name: refreshed.name, project: names.private, expiresAt: refreshed.expiresAt, outcome: 'refreshed' },
            removedRobots,
            ...(await pullSecretsOf(input.vdcId)),
          };
        }
        return {
          driver: 'harbor',
          projects,
          robot: { id: keep.id, name: keep.name, project: names.private, expiresAt: keep.expiresAt, outcome: 'unchanged' },
          removedRobots,
        };
      } catch (err) {
        if (err instanceof RegistryRefused) throw ApplicationFailure.nonRetryable(err.message, HARBOR_PROVISION_FAILURES.refused);
        throw err;
      }
    },
  };
}
