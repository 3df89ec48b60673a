import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from '../lib/config.ts';
import { processServer } from '../lib/process-server.ts';
import { run } from '../lib/proc.ts';

/** The `service` the registry expects in token requests and in the JWT audience. */
export const REGISTRY_SERVICE = 'edgeport-registry';
/** The JWT issuer the registry trusts (Edgeport's token service). */
export const REGISTRY_TOKEN_ISSUER = 'edgeport';

const registryDir = (cfg: StackConfig): string => join(cfg.dataDir, 'registry');
const keyFile = (cfg: StackConfig): string => join(registryDir(cfg), 'token.key');
const certFile = (cfg: StackConfig): string => join(registryDir(cfg), 'token.crt');
const urlOf = (cfg: StackConfig): string => `http://${cfg.host}:${cfg.ports.registry}`;

/**
 * The token-signing key pair (RSA 2048, key file mode 0600) and its self-signed certificate, made once per
 * data folder: the registry trusts the certificate (`rootcertbundle`), the API signs tokens with the key and
 * sends the certificate in the JWT's `x5c` header.
 */
function ensureTokenCert(cfg: StackConfig): void {
  if (existsSync(keyFile(cfg)) && existsSync(certFile(cfg))) return;
  mkdirSync(registryDir(cfg), { recursive: true, mode: 0o700 });
  const tmp = `.${process.pid}.tmp`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/CN=edgeport registry token signer', '-keyout', keyFile(cfg) + tmp, '-out', certFile(cfg) + tmp], { stdio: 'ignore' });
  renameSync(keyFile(cfg) + tmp, keyFile(cfg));
  renameSync(certFile(cfg) + tmp, certFile(cfg));
}

function configYaml(cfg: StackConfig, dir: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(dir, 'data'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${cfg.host}:${cfg.ports.registry}`,
    `  secret: ${randomBytes(24).toString('base64url')}`,
    'auth:',
    '  token:',
    // Clients (crane) only accept a realm on `localhost`, not 127.0.0.1 (STACK.md).
    `    realm: http://localhost:${cfg.ports.api}/api/registry/token`,
    `    service: ${REGISTRY_SERVICE}`,
    `    issuer: ${REGISTRY_TOKEN_ISSUER}`,
    `    rootcertbundle: ${JSON.stringify(certFile(cfg))}`,
    '',
  ].join('\n');
}

/**
 * Debian `docker-registry` (CNCF distribution 2.8) with bearer-token auth: Edgeport's API is its token
 * service (`GET /api/registry/token`), so who may pull or push what is decided by Edgeport's roles.
 */
export const registry = processServer({
  name: 'registry',
  order: 1,
  version: 'docker-registry 2.8 (Debian bookworm)',
  install: async () => {
    await run('bash', ['-c', 'command -v docker-registry >/dev/null && command -v openssl >/dev/null']).catch(() => {
      throw new Error('docker-registry or openssl missing: stack/bootstrap.sh installs them with apt');
    });
  },
  command: (cfg, dir) => {
    ensureTokenCert(cfg);
    const file = join(dir, 'config.yml');
    writeFileSync(file, configYaml(cfg, dir), { mode: 0o600 });
    return { cmd: 'docker-registry', args: ['serve', file] };
  },
  healthy: async (cfg) => {
    const res = await fetch(`${urlOf(cfg)}/v2/`, { signal: AbortSignal.timeout(2000) });
    return res.status === 401 || res.status === 200;
  },
  endpoint: urlOf,
  env: (cfg) => ({
    EDGEPORT_REGISTRY_URL: urlOf(cfg),
    EDGEPORT_REGISTRY_TOKEN_KEY_FILE: keyFile(cfg),
    EDGEPORT_REGISTRY_TOKEN_CERT_FILE: certFile(cfg),
    // The local scanner's advisory feed: a small demo feed (no scanner database is reachable here).
    EDGEPORT_ADVISORY_FEED: join(import.meta.dirname, '..', 'advisories', 'demo-feed.json'),
  }),
});
