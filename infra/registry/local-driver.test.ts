import { readFileSync } from 'node:fs';
import { beforeAll } from 'vitest';
import { buildImage, pushImage } from '../../stack/testing/oci-image.ts';
import { stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { registryDriverSuite, type DriverSuiteContext } from './driver-suite.ts';
import { localRegistryDriver } from './local-driver.ts';
import { parseScope, registryTokenSigner, type RegistryAccess } from './token-signer.ts';

/** The shared driver suite against the real local registry (Debian docker-registry of the test stack). */
const ctx = {} as DriverSuiteContext;

beforeAll(() => {
  const signer = registryTokenSigner({
    keyPem: readFileSync(stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'), 'utf8'),
    certPem: readFileSync(stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'), 'utf8'),
    issuer: 'edgeport',
    service: 'edgeport-registry',
  });
  const driver = localRegistryDriver({
    url: stackEnv('EDGEPORT_REGISTRY_URL'),
    token: async (scopes) =>
      signer.sign(
        'edgeport-test',
        scopes.map(parseScope).filter((s): s is RegistryAccess => s !== null),
      ).token,
  });
  const vdc = uniqueName('drv');
  Object.assign(ctx, {
    driver,
    source: `staging-${vdc}`,
    target: `vdc-${vdc}`,
    seed: (repository: string, tag: string, archs: string[]) => pushImage(driver, repository, tag, buildImage({ archs })),
  });
});

registryDriverSuite('local OCI registry', () => ctx);
