import { readFileSync } from 'node:fs';
import { loadAdvisoryFeed, type AdvisoryFeed } from './advisories.ts';
import { RegistryRefused, type RegistryDriver } from './driver.ts';
import { harborDriver } from './harbor-driver.ts';
import { IMAGE_SETTINGS_DEFAULTS, type ImageDeployPolicy } from './image-settings.ts';
import { localRegistryDriver } from './local-driver.ts';
import { parseScope, registryTokenSigner, type RegistryAccess } from './token-signer.ts';

/** Settings both drivers share. */
interface CommonRuntimeConfig {
  /** Advisory feed of the local scanner (`EDGEPORT_ADVISORY_FEED`); absent → images cannot be scanned locally. */
  advisoryFeed?: string;
  /** Image rules of workload deploys (default: block High and above, external images allowed, no signature needed). */
  deployPolicy?: ImageDeployPolicy;
}

/** Worker settings of the local OCI registry (the key file is a secret: never logged). `driver` absent means local. */
export interface LocalRegistryRuntimeConfig extends CommonRuntimeConfig {
  driver?: 'local';
  url: string;
  tokenKeyFile: string;
  tokenCertFile: string;
  service?: string;
  issuer?: string;
}

/** Worker settings of a Harbor v2.0 registry (`EDGEPORT_REGISTRY_DRIVER=harbor`); the password is a secret: never logged. */
export interface HarborRegistryRuntimeConfig extends CommonRuntimeConfig {
  driver: 'harbor';
  url: string;
  username: string;
  password: string;
  /** Days a VDC robot created or refreshed by provisioning lives (`EDGEPORT_HARBOR_ROBOT_DURATION_DAYS`, default 30). */
  robotDurationDays?: number;
  /** Storage quota of each project Edgeport creates, GiB (`EDGEPORT_HARBOR_PROJECT_STORAGE_GI`, default 20; 0: unlimited). */
  projectStorageGi?: number;
}

/** How Edgeport provisions Harbor projects and robots (see `activities/harbor-provisioning.ts`). */
export interface HarborProvisioningSettings {
  robotDurationDays: number;
  /** Bytes; -1 unlimited (Harbor's notation). */
  projectStorageBytes: number;
}

export const HARBOR_PROVISIONING_DEFAULTS = { robotDurationDays: 30, projectStorageGi: 20 } as const;

export type RegistryRuntimeConfig = LocalRegistryRuntimeConfig | HarborRegistryRuntimeConfig;

/** A driver the local scanner can read blobs through (Harbor's answers RegistryRefused: Harbor scans images itself). */
export type RuntimeDriver = RegistryDriver & { readBlob(repository: string, digest: string): Promise<Buffer> };

type LocalDriver = ReturnType<typeof localRegistryDriver>;

/**
 * The worker's registry: the selected driver (local: signing its own tokens as `edgeport-worker`) and the
 * scanner's feed. The default type parameter is the local driver (tests push through it); activities take
 * {@link AnyRegistryRuntime}, which either driver satisfies.
 */
export interface RegistryRuntime<D extends RuntimeDriver = LocalDriver> {
  driver: D;
  feed: AdvisoryFeed | null;
  /** `host:port` images are pulled from (`<host>/<repository>:<tag>`). */
  host: string;
  deployPolicy: ImageDeployPolicy;
  /** Present with the Harbor driver only. */
  harbor?: HarborProvisioningSettings;
}

/** A runtime over whichever driver the configuration selected. */
export type AnyRegistryRuntime = RegistryRuntime<RuntimeDriver>;

/** The driver the settings select (`local` unless `driver: 'harbor'`). Exported for the API, which reads through the same drivers. */
export function registryDriverFor(cfg: LocalRegistryRuntimeConfig): LocalDriver;
export function registryDriverFor(cfg: RegistryRuntimeConfig): RuntimeDriver;
export function registryDriverFor(cfg: RegistryRuntimeConfig): RuntimeDriver {
  if (cfg.driver === 'harbor') {
    const harbor = harborDriver({ url: cfg.url, username: cfg.username, password: cfg.password });
    return Object.assign(harbor, {
      readBlob: async (): Promise<Buffer> => {
        throw new RegistryRefused('the Harbor driver does not read blobs: Harbor scans its images itself (scan trigger and report)', 501);
      },
    });
  }
  const signer = registryTokenSigner({
    keyPem: readFileSync(cfg.tokenKeyFile, 'utf8'),
    certPem: readFileSync(cfg.tokenCertFile, 'utf8'),
    issuer: cfg.issuer ?? 'edgeport',
    service: cfg.service ?? 'edgeport-registry',
  });
  return localRegistryDriver({
    url: cfg.url,
    token: async (scopes) =>
      signer.sign(
        'edgeport-worker',
        scopes.map(parseScope).filter((s): s is RegistryAccess => s !== null),
      ).token,
  });
}

/** Built once per worker; the feed is read and validated here, so a bad feed file stops the worker at start. */
export function createRegistryRuntime(cfg: LocalRegistryRuntimeConfig): RegistryRuntime<LocalDriver>;
export function createRegistryRuntime(cfg: RegistryRuntimeConfig): AnyRegistryRuntime;
export function createRegistryRuntime(cfg: RegistryRuntimeConfig): AnyRegistryRuntime {
  const storageGi = cfg.driver === 'harbor' ? (cfg.projectStorageGi ?? HARBOR_PROVISIONING_DEFAULTS.projectStorageGi) : 0;
  return {
    driver: registryDriverFor(cfg),
    feed: cfg.advisoryFeed ? loadAdvisoryFeed(cfg.advisoryFeed) : null,
    host: new URL(cfg.url).host,
    deployPolicy: cfg.deployPolicy ?? IMAGE_SETTINGS_DEFAULTS.deploy,
    ...(cfg.driver === 'harbor'
      ? {
          harbor: {
            robotDurationDays: cfg.robotDurationDays ?? HARBOR_PROVISIONING_DEFAULTS.robotDurationDays,
            projectStorageBytes: storageGi === 0 ? -1 : storageGi * 1024 ** 3,
          },
        }
      : {}),
  };
}
