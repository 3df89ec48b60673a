import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
const notifySecretFile = (cfg: StackConfig): string => join(registryDir(cfg), 'notify.secret');

/** The shared secret of the registry's push notifications to the API, made once per data folder (mode 0600). */
function notifySecret(cfg: StackConfig): string {
  if (!existsSync(notifySecretFile(cfg))) {
    mkdirSync(registryDir(cfg), { recursive: true, mode: 0o700 });
    const tmp = `${notifySecretFile(cfg)}.${process.pid}.tmp`;
    writeFileSync(tmp, randomBytes(24).toString('base64url'), { mode: 0o600 });
    renameSync(tmp, notifySecretFile(cfg));
  }
  return readFileSync(notifySecretFile(cfg), 'utf8').trim();
}

/**
 * The token-signing key pair (RSA 2048, key file mode 0600) and its self-signed certificate, made once per
 * data folder: the registry trusts the certificate (`rootcertbundle`), the API signs tokens with the key and
 * sends the certificate in the JWT's `x5c` header.
 */
function ensureTokenCert(cfg: StackConfig): void {
  if (existsSync(keyFile(cfg)) && existsSync(certFile(cfg))) return;
  mkdirSync(registryDir(cfg), { recursive: true, mode: 0o700 });
  const tmp = `.${process.pid}.tmp`;
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '3650',
      '-subj',
      '/CN=edgeport registry token signer',
      '-keyout',
      keyFile(cfg) + tmp,
      '-out',
      certFile(cfg) + tmp,
    ],
    { stdio: 'ignore' },
  );
  renameSync(keyFile(cfg) + tmp, keyFile(cfg));
  renameSync(certFile(cfg) + tmp, certFile(cfg));
}

function configYaml(cfg: StackConfig, dir: string): string {
  return [
    'version: 0.1',
    'log:',
    // Not info: at info the registry logs each notification endpoint with its headers, the shared secret included.
    '  level: warn',
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
    // Push events go to the API, which scans what was pushed (the secret header authenticates the registry).
    'notifications:',
    '  endpoints:',
    '    - name: edgeport',
    `      url: http://localhost:${cfg.ports.api}/hooks/registry/events`,
    '      headers:',
    `        X-Edgeport-Registry-Secret: [${JSON.stringify(notifySecret(cfg))}]`,
    '      timeout: 5s',
    '      threshold: 3',
    '      backoff: 2s',
    '      ignore:',
    '        actions: [pull]',
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
    EDGEPORT_REGISTRY_NOTIFY_SECRET: notifySecret(cfg),
    // The local scanner's advisory feed: a small demo feed (no scanner database is reachable here).
    EDGEPORT_ADVISORY_FEED: join(import.meta.dirname, '..', 'advisories', 'demo-feed.json'),
  }),
});
