import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVERS } from '../servers/index.ts';
import type { StackConfig } from './config.ts';

/** A secret generated once per data folder (mode 0600) and reused across restarts. */
export function persistentSecret(cfg: StackConfig, name: string): string {
  const dir = join(cfg.dataDir, 'secrets');
  const file = join(dir, name);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** Environment of the api and worker processes (and of tests) on this stack. */
export function appEnv(cfg: StackConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of SERVERS) Object.assign(env, s.env(cfg));
  return {
    ...env,
    EDGEPORT_API_HOST: cfg.host,
    EDGEPORT_API_PORT: String(cfg.ports.api),
    EDGEPORT_PUBLIC_URL: `http://${cfg.host}:${cfg.ports.api}`,
    EDGEPORT_SESSION_SECRET: persistentSecret(cfg, 'session-secret'),
    // Seals stored pool credentials (AES-256-GCM); one per data folder.
    EDGEPORT_CREDENTIALS_KEY: persistentSecret(cfg, 'credentials-key'),
    EDGEPORT_DATA_DIR: cfg.dataDir,
    // The dev demo is built through the API from an empty database, so its first admin comes from the
    // bootstrap list; the test profile's store-level seed grants the demo users their roles directly.
    ...(cfg.profile === 'dev' ? { EDGEPORT_BOOTSTRAP_ADMINS: 'opsadmin' } : {}),
  };
}
