import { readFileSync } from 'node:fs';
import { loadAdvisoryFeed, type AdvisoryFeed } from './advisories.ts';
import { IMAGE_SETTINGS_DEFAULTS, type ImageDeployPolicy } from './image-settings.ts';
import { localRegistryDriver } from './local-driver.ts';
import { parseScope, registryTokenSigner, type RegistryAccess } from './token-signer.ts';

/** Worker settings of the local OCI registry (the key file is a secret: never logged). */
export interface RegistryRuntimeConfig {
  url: string;
  tokenKeyFile: string;
  tokenCertFile: string;
  /** Advisory feed of the local scanner (`EDGEPORT_ADVISORY_FEED`); absent → images cannot be scanned locally. */
  advisoryFeed?: string;
  service?: string;
  issuer?: string;
  /** Image rules of workload deploys (default: block High and above, external images allowed, no signature needed). */
  deployPolicy?: ImageDeployPolicy;
}

/** The worker's registry: the local driver signing its own tokens (subject `edgeport-worker`) and the scanner's feed. */
export interface RegistryRuntime {
  driver: ReturnType<typeof localRegistryDriver>;
  feed: AdvisoryFeed | null;
  /** `host:port` images are pulled from (`<host>/<repository>:<tag>`). */
  host: string;
  deployPolicy: ImageDeployPolicy;
}

/** Built once per worker; the feed is read and validated here, so a bad feed file stops the worker at start. */
export function createRegistryRuntime(cfg: RegistryRuntimeConfig): RegistryRuntime {
  const signer = registryTokenSigner({
    keyPem: readFileSync(cfg.tokenKeyFile, 'utf8'),
    certPem: readFileSync(cfg.tokenCertFile, 'utf8'),
    issuer: cfg.issuer ?? 'edgeport',
    service: cfg.service ?? 'edgeport-registry',
  });
  const driver = localRegistryDriver({
    url: cfg.url,
    token: async (scopes) => signer.sign('edgeport-worker', scopes.map(parseScope).filter((s): s is RegistryAccess => s !== null)).token,
  });
  return { driver, feed: cfg.advisoryFeed ? loadAdvisoryFeed(cfg.advisoryFeed) : null, host: new URL(cfg.url).host, deployPolicy: cfg.deployPolicy ?? IMAGE_SETTINGS_DEFAULTS.deploy };
}
