import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laneOrigins, type StackConfig } from '../lib/config.ts';
import { processServer } from '../lib/process-server.ts';

const CLIENT_ID = 'edgeport-portal';

/** Generated once per data folder; both values are secrets (file mode 0600, never logged). */
interface OidcSecrets {
  clientSecret: string;
  cookieKeys: string[];
}

function oidcDir(cfg: StackConfig): string {
  return join(cfg.dataDir, 'oidc');
}

const issuerOf = (cfg: StackConfig): string => `http://${cfg.host}:${cfg.ports.oidc}`;
const publicUrlOf = (cfg: StackConfig): string => `http://${cfg.host}:${cfg.ports.api}`;

/**
 * Reads the client secret and cookie keys from the data folder, creating them on first use, so `env()` and
 * the provider process agree whichever runs first and restarts keep existing sessions valid.
 */
function ensureSecrets(cfg: StackConfig): OidcSecrets {
  const dir = oidcDir(cfg);
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<OidcSecrets>;
    if (typeof s.clientSecret === 'string' && Array.isArray(s.cookieKeys) && s.cookieKeys.length > 0) return s as OidcSecrets;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secrets: OidcSecrets = {
    clientSecret: randomBytes(32).toString('base64url'),
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(secrets), { mode: 0o600 });
  renameSync(tmp, file);
  return secrets;
}

/**
 * The local OpenID provider (`stack/oidc/provider.ts`, npm oidc-provider 9) standing in for Keycloak: one
 * confidential client `edgeport-portal` whose redirect URI is the API's `/auth/callback`.
 */
export const oidc = processServer({
  name: 'oidc',
  order: 1,
  version: 'oidc-provider 9 (npm)',
  install: async (cfg) => {
    if (!existsSync(join(cfg.repoDir, 'node_modules', '.bin', 'tsx'))) throw new Error('node_modules/.bin/tsx missing: run npm install');
  },
  command: (cfg, dir) => {
    const secrets = ensureSecrets(cfg);
    const bin = join(cfg.repoDir, 'node_modules', '.bin');
    return {
      cmd: join(bin, 'tsx'),
      args: [join(cfg.repoDir, 'stack', 'oidc', 'provider.ts')],
      env: {
        // tsx's shebang resolves `node` from PATH: the project's Node 24 first.
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        EDGEPORT_OIDC_PORT: String(cfg.ports.oidc),
        EDGEPORT_OIDC_CLIENT_ID: CLIENT_ID,
        EDGEPORT_OIDC_CLIENT_SECRET: secrets.clientSecret,
        // The stack's api, and in the test profile the test lanes' apis (stack/lib/config.ts laneOrigins).
        EDGEPORT_OIDC_REDIRECT_URIS: [publicUrlOf(cfg), ...laneOrigins(cfg)].map((o) => `${o}/auth/callback`).join(','),
        EDGEPORT_OIDC_POST_LOGOUT_REDIRECT_URIS: [publicUrlOf(cfg), ...laneOrigins(cfg)].map((o) => `${o}/`).join(','),
        EDGEPORT_OIDC_COOKIE_KEYS: secrets.cookieKeys.join(','),
        EDGEPORT_OIDC_DATA_DIR: dir,
      },
    };
  },
  healthy: async (cfg) => {
    const res = await fetch(`${issuerOf(cfg)}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return false;
    const doc = (await res.json()) as { issuer?: string };
    return doc.issuer === issuerOf(cfg);
  },
  endpoint: (cfg) => issuerOf(cfg),
  env: (cfg) => ({
    EDGEPORT_OIDC_ISSUER: issuerOf(cfg),
    EDGEPORT_OIDC_CLIENT_ID: CLIENT_ID,
    EDGEPORT_OIDC_CLIENT_SECRET: ensureSecrets(cfg).clientSecret,
    EDGEPORT_PUBLIC_URL: publicUrlOf(cfg),
  }),
  startTimeoutMs: 30_000,
});
