import { readFileSync } from 'node:fs';
import { imageDeployProblems } from '../../infra/registry/deploy-gate.ts';
import type { ImageDeployPolicy } from '../../infra/registry/image-settings.ts';
import { localRegistryDriver } from '../../infra/registry/local-driver.ts';
import { parseScope, registryTokenSigner, type RegistryAccess } from '../../infra/registry/token-signer.ts';
import type { SubmitTicket } from '../../common/tickets.ts';
import type { ImageScanStore } from '../../store/image-scans.ts';
import { imagesOf } from './ticket-types/index.ts';
import { DEFAULT_REGISTRY_ISSUER, DEFAULT_REGISTRY_SERVICE, type RegistryConfig } from './registry.ts';

/** The local registry driver as the API uses it: read-only (its tokens carry pull and catalog scopes only). */
export function apiRegistryDriver(config: RegistryConfig) {
  const signer = registryTokenSigner({
    keyPem: readFileSync(config.tokenKeyFile, 'utf8'),
    certPem: readFileSync(config.tokenCertFile, 'utf8'),
    issuer: config.issuer ?? DEFAULT_REGISTRY_ISSUER,
    service: config.service ?? DEFAULT_REGISTRY_SERVICE,
  });
  return localRegistryDriver({
    url: config.url,
    token: async (scopes) =>
      signer.sign(
        'edgeport-api',
        scopes
          .filter((s) => s.endsWith(':pull') || s === 'registry:catalog:*')
          .map(parseScope)
          .filter((s): s is RegistryAccess => s !== null),
      ).token,
  });
}

/**
 * The submit-time image check of the ticket types that run images (`images` of their definition; today
 * workload deploys): scan, signature and external-image rules over the
 * registry as it is now, and the architecture rule when the workload pins its nodes' architecture
 * (`nodeSelector kubernetes.io/arch`); otherwise the architecture rule needs the pool's nodes and is checked
 * at preflight, where every rule is checked again. A registry the API cannot reach refuses nothing here: the preflight decides.
 */
export function imageGate(deps: {
  config: RegistryConfig;
  scans: Pick<ImageScanStore, 'latest'>;
  policy: ImageDeployPolicy;
  log?: (msg: string, err: unknown) => void;
}) {
  const driver = apiRegistryDriver(deps.config);
  const registryHost = new URL(deps.config.url).host;
  return async (vdcId: string, body: SubmitTicket): Promise<{ field: string; message: string }[]> => {
    const images = imagesOf(body);
    if (!images) return [];
    try {
      return (
        await imageDeployProblems(
          { driver, scans: deps.scans, registryHost, policy: deps.policy },
          vdcId,
          images.containers,
          images.arches ? { arches: images.arches } : {},
        )
      ).map((p) => ({ field: p.field, message: p.message }));
    } catch (err) {
      deps.log?.('image check at submit skipped: registry unreachable', err);
      return [];
    }
  };
}
