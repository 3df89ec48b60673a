import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSecretEnv, logHygieneProblems } from './log-hygiene.ts';
import { procFiles, spawnDetached, stopPid } from './proc.ts';

const root = mkdtempSync(join(tmpdir(), 'edgeport-logs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('server logs', () => {
  it('are written 0600 in a 0700 folder, also when the folder and file existed with wider modes', async () => {
    const dataDir = join(root, 'data');
    const first = procFiles(dataDir, 'echo');
    chmodSync(join(dataDir, 'logs'), 0o755);
    writeFileSync(first.logFile, 'old\n', { mode: 0o644 });
    const files = procFiles(dataDir, 'echo');
    spawnDetached('sh', ['-c', 'echo started'], files);
    await new Promise((r) => setTimeout(r, 300));
    await stopPid(files.pidFile, 1000);
    expect(statSync(join(dataDir, 'logs')).mode & 0o777).toBe(0o700);
    expect(statSync(files.logFile).mode & 0o777).toBe(0o600);
    expect(logHygieneProblems(join(dataDir, 'logs'), [{ name: 'session secret', value: 'not-in-there-0123' }])).toEqual([]);
  });

  it('are reported for a wrong mode or a secret in a file, naming the secret but not its value', () => {
    const logs = join(root, 'bad');
    procFiles(join(root, 'bad-data'), 'x');
    const dir = join(root, 'bad-data', 'logs');
    writeFileSync(join(dir, 'registry.log'), 'configuring endpoint edgeport headers=map[X-Edgeport-Registry-Secret:[s3cr3t-value-xyz]]\n', { mode: 0o644 });
    const problems = logHygieneProblems(dir, [{ name: 'EDGEPORT_REGISTRY_NOTIFY_SECRET', value: 's3cr3t-value-xyz' }]);
    expect(problems).toEqual([`${dir}/registry.log: mode 644, want 600`, `${dir}/registry.log: contains EDGEPORT_REGISTRY_NOTIFY_SECRET`]);
    expect(problems.join()).not.toContain('s3cr3t');
    expect(logHygieneProblems(logs, [])).toEqual([]);
  });

  it('masks secret variables in `stack env`', () => {
    for (const k of [
      'EDGEPORT_SESSION_SECRET',
      'EDGEPORT_CREDENTIALS_KEY',
      'EDGEPORT_OIDC_COOKIE_KEYS',
      'EDGEPORT_HARBOR_PASSWORD',
      'EDGEPORT_REGISTRY_NOTIFY_SECRET',
    ])
      expect(isSecretEnv(k), k).toBe(true);
    for (const k of ['EDGEPORT_REGISTRY_TOKEN_KEY_FILE', 'EDGEPORT_PUBLIC_URL']) expect(isSecretEnv(k), k).toBe(false);
  });
});
