import { join } from 'node:path';
import { processServer } from '../lib/process-server.ts';
import { tcpOpen } from '../lib/proc.ts';
import { ensurePyVenv, PY_VERSIONS, pyVenvDir } from '../lib/py-venv.ts';

/** SecantusDB (PyPI), a MongoDB-wire server presenting itself as a one-node replica set. */
export const mongo = processServer({
  name: 'mongo',
  order: 1,
  version: `secantusdb ${PY_VERSIONS.secantus}`,
  install: async (cfg) => void (await ensurePyVenv(cfg)),
  command: (cfg, dir) => ({
    cmd: join(pyVenvDir(cfg), 'bin', 'secantusd-py'),
    args: ['--host', cfg.host, '--port', String(cfg.ports.mongo), '--storage-path', join(dir, 'db'), '--cache-size', '256M', '--log-level', 'WARNING'],
  }),
  healthy: async (cfg) => {
    if (!(await tcpOpen(cfg.host, cfg.ports.mongo))) return false;
    const { mongo: driver } = await import('mongoose');
    const client = new driver.MongoClient(`mongodb://${cfg.host}:${cfg.ports.mongo}/?directConnection=true`, { serverSelectionTimeoutMS: 1000 });
    try {
      await client.db('admin').command({ ping: 1 });
      return true;
    } finally {
      await client.close();
    }
  },
  endpoint: (cfg) => `mongodb://${cfg.host}:${cfg.ports.mongo}`,
  env: (cfg) => ({ EDGEPORT_MONGO_URL: `mongodb://${cfg.host}:${cfg.ports.mongo}/edgeport?directConnection=true` }),
});
