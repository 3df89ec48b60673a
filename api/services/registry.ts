import { readFileSync } from 'node:fs';
import { repositoryOwner, type ImagePlatformView, type ImageRepositoryView, type ImageTagView, type ImageVisibility } from '../../common/images.ts';
import { ALL_PERMISSIONS } from '../../common/permissions.ts';
import { ROLES } from '../../common/roles.ts';
import { distributionClient, isIndex, type DistributionClient } from '../../infra/registry/distribution.ts';
import { cosignSignatureTag, isCosignArtifactTag, type RegistryDriver } from '../../infra/registry/driver.ts';
import type { ImageScanView } from '../../common/image-scan.ts';
import type { ImageScanStore } from '../../store/image-scans.ts';
import { parseScope, registryTokenSigner, type RegistryAccess } from '../../infra/registry/token-signer.ts';
import type { VdcStore } from '../../store/vdcs.ts';
import type { PullCredentialStore } from '../../store/pull-credentials.ts';
import { vdcOfPullUsername } from '../../common/pull-credentials.ts';
import { allows, type Grant } from '../authz.ts';
import { HttpError, InputError, NotFoundError, UnauthorizedError } from '../errors.ts';
import type { Caller } from './caller.ts';

/** Settings of the registry this API is the token service of. */
export interface RegistryConfig {
  url: string;
  /** PEM file of the RSA key signing tokens. Secret: never logged. */
  tokenKeyFile: string;
  /** PEM file of the certificate the registry trusts (`rootcertbundle`); sent as the JWT's `x5c`. */
  tokenCertFile: string;
  /** `auth.token.service` of the registry. */
  service?: string;
  /** `auth.token.issuer` of the registry. */
  issuer?: string;
}

/**
 * The registry failed or answered unexpectedly while listing (502). Its own status (e.g. 401/404) must not
 * reach the caller as if their request were wrong; the cause stays on the error for the server's eyes only.
 */
export class RegistryUnavailableError extends HttpError {
  constructor(cause: unknown) {
    super(502, 'Bad Gateway', 'the image registry could not be read');
    this.cause = cause;
  }
}

export const DEFAULT_REGISTRY_SERVICE = 'edgeport-registry';
export const DEFAULT_REGISTRY_ISSUER = 'edgeport';
export { parseScope, registryTokenSigner, type RegistryAccess } from '../../infra/registry/token-signer.ts';

/**
 * Operations admin for the registry: the built-in ops-admin role bound at platform scope, with none of its
 * permissions cut away (an API token of an ops admin counts only when it carries every permission).
 */
export function isOpsAdmin(grants: readonly Grant[]): boolean {
  return grants.some((g) => g.roleId === ROLES.opsAdmin && g.scope.type === 'platform' && g.permissions.size === ALL_PERMISSIONS.length);
}

export interface RegistryServiceDeps {
  /** The local registry's settings; with `driver` (Harbor) only `url` is needed and there is no token service. */
  config: Pick<RegistryConfig, 'url'> & Partial<RegistryConfig>;
  /** Reads the listing through this driver (Harbor, `EDGEPORT_REGISTRY_DRIVER=harbor`) instead of the local registry's API. */
  driver?: RegistryDriver;
  vdcs: Pick<VdcStore, 'get'>;
  /** Stored scans: the listing shows each tag's last scan summary when given. */
  scans?: Pick<ImageScanStore, 'latestMany'>;
  /** VDCs' pull credentials (local registry): the token service accepts them for `pull` on the VDC's and public repositories. */
  pullCredentials?: Pick<PullCredentialStore, 'verify'>;
  fetch?: typeof fetch;
}

/** The actions a VDC's pull credential gets on a repository: `pull` on `vdc-<its id>/…` and `public/…`, nothing else. */
export function pullCredentialActions(vdcId: string, repo: string, requested: readonly string[]): string[] {
  const owner = repositoryOwner(repo);
  const mayPull = owner.visibility === 'public' || (owner.visibility === 'private' && owner.vdcId === vdcId);
  return mayPull ? requested.filter((a) => a === 'pull') : [];
}

export type RegistryService = ReturnType<typeof registryService>;

/** Token service of the registry and the read-only image listing. */
export function registryService(deps: RegistryServiceDeps) {
  const service = deps.config.service ?? DEFAULT_REGISTRY_SERVICE;
  const signer =
    deps.config.tokenKeyFile && deps.config.tokenCertFile
      ? registryTokenSigner({
          keyPem: readFileSync(deps.config.tokenKeyFile, 'utf8'),
          certPem: readFileSync(deps.config.tokenCertFile, 'utf8'),
          issuer: deps.config.issuer ?? DEFAULT_REGISTRY_ISSUER,
          service,
        })
      : null;
  const client: DistributionClient = distributionClient({
    url: deps.config.url,
    token: async (scopes) => {
      if (!signer) throw new Error('no registry token key configured');
      return signer.sign(
        'edgeport-api',
        scopes.map(parseScope).filter((s): s is RegistryAccess => s !== null),
      ).token;
    },
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const registryHost = new URL(deps.config.url).host;

  /** VDC target of a VDC id, or null when the VDC does not exist. */
  async function vdcTarget(vdcId: string): Promise<{ kind: 'vdc'; vdcId: string; domainId: string } | null> {
    const vdc = await deps.vdcs.get(vdcId);
    return vdc ? { kind: 'vdc', vdcId, domainId: vdc.domainId } : null;
  }

  /**
   * The actions of `requested` the caller may perform on a repository:
   * public → pull for everyone signed in; `vdc-<id>` → pull with vdc:read, push with ticket:create there;
   * `staging-<id>` → pull and push with vdc:read there; operations admins everything (incl. delete).
   */
  async function allowedActions(caller: Caller, repo: string, requested: readonly string[]): Promise<string[]> {
    if (isOpsAdmin(caller.grants)) return [...requested];
    const owner = repositoryOwner(repo);
    const may = new Set<string>();
    if (owner.visibility === 'public') may.add('pull');
    if (owner.visibility === 'private' || owner.visibility === 'staging') {
      const target = await vdcTarget(owner.vdcId);
      if (target && allows(caller.grants, 'vdc:read', target)) {
        may.add('pull');
        if (owner.visibility === 'staging') may.add('push');
      }
      if (target && owner.visibility === 'private' && allows(caller.grants, 'ticket:create', target)) may.add('push');
    }
    return requested.filter((a) => may.has(a));
  }

  /** Parses the `service` and `scope` parameters (Docker registry token specification). */
  function parseRequest(query: { service?: unknown; scope?: unknown }): RegistryAccess[] {
    if (query.service !== undefined && query.service !== service)
      throw new InputError(`unknown service; this token service serves ${service}`, [{ field: 'service', message: `must be ${service}` }]);
    const raw = query.scope === undefined ? [] : Array.isArray(query.scope) ? query.scope : [query.scope];
    return raw.map((s, i) => {
      const parsed = typeof s === 'string' ? parseScope(s) : null;
      if (!parsed) throw new InputError('malformed scope', [{ field: raw.length > 1 ? `scope[${i}]` : 'scope', message: 'must be <type>:<name>:<actions>' }]);
      return parsed;
    });
  }

  async function tagView(repo: string, tag: string): Promise<ImageTagView> {
    if (deps.driver) {
      const d = await deps.driver.getImage(repo, tag);
      return {
        tag,
        digest: d.digest,
        mediaType: d.mediaType,
        multiArch: d.multiArch,
        size: d.size,
        platforms: d.platforms.map(({ layers: _l, ...p }) => p),
        created: null,
        pushedAt: d.pushedAt,
      };
    }
    const top = await client.manifest(repo, tag);
    const platforms: ImagePlatformView[] = [];
    const blobs = new Map<string, number>();
    let created: string | null = null;
    const sizeOf = (m: { config?: { digest: string; size: number }; layers?: { digest: string; size: number }[] }): number => {
      let total = 0;
      for (const d of [...(m.config ? [m.config] : []), ...(m.layers ?? [])]) {
        total += d.size;
        blobs.set(d.digest, d.size);
      }
      return total;
    };
    if (isIndex(top.mediaType)) {
      for (const d of top.manifest.manifests ?? []) {
        // Attestation manifests (buildkit `unknown/unknown`) are not platforms.
        if (!d.platform?.architecture || d.platform.architecture === 'unknown') continue;
        const child = await client.manifest(repo, d.digest);
        platforms.push({
          os: d.platform.os ?? 'unknown',
          architecture: d.platform.architecture,
          ...(d.platform.variant ? { variant: d.platform.variant } : {}),
          digest: child.digest,
          size: sizeOf(child.manifest),
        });
      }
    } else {
      const size = sizeOf(top.manifest);
      const config = top.manifest.config ? await client.config(repo, top.manifest.config.digest) : {};
      created = typeof config.created === 'string' ? config.created : null;
      platforms.push({
        os: config.os ?? 'unknown',
        architecture: config.architecture ?? 'unknown',
        ...(config.variant ? { variant: config.variant } : {}),
        digest: top.digest,
        size,
      });
    }
    const size = [...blobs.values()].reduce((a, b) => a + b, 0);
    return { tag, digest: top.digest, mediaType: top.mediaType, multiArch: isIndex(top.mediaType), size, platforms, created, pushedAt: null };
  }

  /** Repositories of the catalog the caller may pull (optionally one VDC's), with their tags. */
  async function listVisible(caller: Caller, vdcId: string | undefined): Promise<ImageRepositoryView[]> {
    const names = deps.driver ? await deps.driver.listRepositories() : await client.catalog();
    const out: ImageRepositoryView[] = [];
    for (const name of names) {
      const owner = repositoryOwner(name);
      if (vdcId !== undefined && !('vdcId' in owner && owner.vdcId === vdcId)) continue;
      if ((await allowedActions(caller, name, ['pull'])).length === 0) continue;
      const allTags = deps.driver ? await deps.driver.listTags(name) : await client.tags(name);
      const tags = await Promise.all(allTags.filter((t) => !isCosignArtifactTag(t)).map((t) => tagView(name, t)));
      if (tags.length === 0) continue;
      const scans = deps.scans ? await deps.scans.latestMany(tags.map((t) => t.digest)) : new Map<string, ImageScanView>();
      for (const t of tags) {
        t.signed = allTags.includes(cosignSignatureTag(t.digest));
        const s = scans.get(t.digest);
        t.scan = s ? { severity: s.severity, counts: s.counts as Record<string, number>, scannedAt: s.scannedAt, findings: s.findings.length } : null;
      }
      const visibility: ImageVisibility = owner.visibility === 'other' ? 'private' : owner.visibility;
      out.push({ name, visibility, vdcId: 'vdcId' in owner ? owner.vdcId : null, pullRef: `${registryHost}/${name}`, tags });
    }
    return out;
  }

  return {
    service,

    /** Whether the caller may pull `repository` (the same rule the token service applies). */
    mayPull: async (caller: Caller, repository: string): Promise<boolean> => (await allowedActions(caller, repository, ['pull'])).length > 0,

    /**
     * Issues a token for the requested scopes, each cut down to the actions the caller may perform
     * (the specification's answer to "asked for more than allowed" is a token with fewer actions, not an error).
     * @throws InputError naming `service` when it is not this registry's, or `scope` when one is malformed.
     */
    async token(
      caller: Caller,
      query: { service?: unknown; scope?: unknown },
    ): Promise<{ token: string; access_token: string; expires_in: number; issued_at: string }> {
      if (!signer) throw new NotFoundError('this registry issues its own tokens (Harbor): Edgeport is not its token service');
      const access: RegistryAccess[] = [];
      for (const parsed of parseRequest(query)) {
        let actions: string[] = [];
        if (parsed.type === 'repository') actions = await allowedActions(caller, parsed.name, parsed.actions);
        else if (isOpsAdmin(caller.grants)) actions = parsed.actions;
        access.push({ ...parsed, actions });
      }
      const signed = signer.sign(caller.sub, access);
      return { token: signed.token, access_token: signed.token, expires_in: signed.expiresIn, issued_at: signed.issuedAt };
    },

    /**
     * Issues a token to a VDC's pull credential (Basic `vdc-<id>-pull:eppull_…`, the login in the VDC's pull
     * Secrets): `pull` on the VDC's own repositories and the public ones, never push, never staging or another
     * VDC's. A rotated (or removed) credential is refused at once; tokens already issued live out their
     * lifetime (five minutes).
     * @throws UnauthorizedError when the username is not a pull credential's or the secret is not its current one.
     */
    async pullCredentialToken(
      username: string,
      secret: string,
      query: { service?: unknown; scope?: unknown },
    ): Promise<{ token: string; access_token: string; expires_in: number; issued_at: string }> {
      if (!signer) throw new NotFoundError('this registry issues its own tokens (Harbor): Edgeport is not its token service');
      const vdcId = vdcOfPullUsername(username);
      if (!vdcId || !deps.pullCredentials || !(await deps.pullCredentials.verify(vdcId, secret))) throw new UnauthorizedError('invalid registry credentials');
      const access = parseRequest(query).map((a) => ({ ...a, actions: a.type === 'repository' ? pullCredentialActions(vdcId, a.name, a.actions) : [] }));
      const signed = signer.sign(username, access);
      return { token: signed.token, access_token: signed.token, expires_in: signed.expiresIn, issued_at: signed.issuedAt };
    },

    /**
     * Repositories and tags the caller may pull, optionally only one VDC's (private and staging).
     * @throws NotFoundError when `vdcId` names a VDC the caller cannot read (or none).
     * @throws RegistryUnavailableError (502) when the registry fails or cannot be reached (no retry here).
     */
    async list(caller: Caller, opts: { vdcId?: string }): Promise<ImageRepositoryView[]> {
      if (opts.vdcId !== undefined) {
        const target = await vdcTarget(opts.vdcId);
        if (!target || !allows(caller.grants, 'vdc:read', target)) throw new NotFoundError('no such VDC');
      }
      try {
        return await listVisible(caller, opts.vdcId);
      } catch (err) {
        throw new RegistryUnavailableError(err);
      }
    },
  };
}
