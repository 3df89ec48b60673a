import { processServer } from '../lib/process-server.ts';
import { run } from '../lib/proc.ts';

/** Debian redis-server; `noeviction` because BullMQ must never lose a key. */
export const redis = processServer({
  name: 'redis',
  order: 1,
  version: 'redis-server 7.0 (Debian bookworm)',
  install: async () => {
    await run('bash', ['-c', 'command -v redis-server >/dev/null']).catch(() => {
      throw new Error('redis-server missing: stack/bootstrap.sh installs it with apt');
    });
  },
  command: (cfg, dir) => ({
    cmd: 'redis-server',
    args: [
      '--bind',
      cfg.host,
      '--port',
      String(cfg.ports.redis),
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
      '--protected-mode',
      'yes',
    ],
  }),
  healthy: async (cfg) => (await run('redis-cli', ['-h', cfg.host, '-p', String(cfg.ports.redis), 'ping'])).trim() === 'PONG',
  endpoint: (cfg) => `redis://${cfg.host}:${cfg.ports.redis}`,
  env: (cfg) => ({ EDGEPORT_REDIS_URL: `redis://${cfg.host}:${cfg.ports.redis}` }),
});
