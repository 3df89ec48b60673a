import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `dev` serves `npm start`; `test` serves `npm test` with its own ports and a throw-away data folder. */
export type Profile = 'dev' | 'test';

/** Everything the stack scripts need to know: where data and caches live and which loopback ports to use. */
export interface StackConfig {
  profile: Profile;
  host: '127.0.0.1';
  /** Root of this profile's data (one sub-folder per server, plus run/ and logs/). */
  dataDir: string;
  /** Version-keyed downloads and builds, shared by every clone and profile. */
  cacheDir: string;
  repoDir: string;
  ports: StackPorts;
}

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  temporalHttp: number;
  temporalMetrics: number;
  mongo: number;
  redis: number;
  etcd: number;
  etcdPeer: number;
  kubeApiserver: number;
  kubeControllerManager: number;
  kubeScheduler: number;
  kwok: number;
  registry: number;
  oidc: number;
  api: number;
}

const OFFSETS: StackPorts = {
  temporal: 0,
  temporalUi: 1,
  temporalHttp: 2,
  temporalMetrics: 3,
  mongo: 10,
  redis: 11,
  etcd: 20,
  etcdPeer: 21,
  kubeApiserver: 22,
  kubeControllerManager: 23,
  kubeScheduler: 24,
  kwok: 25,
  registry: 30,
  oidc: 40,
  api: 50,
};

/**
 * Reads the stack's settings from the environment (the only place the stack scripts do):
 * EDGEPORT_PORT_BASE (dev 17200, test 27200), EDGEPORT_DATA_DIR (dev .edgeport/dev in the clone,
 * test .edgeport/test), EDGEPORT_CACHE (~/.cache/edgeport).
 */
export function loadStackConfig(profile: Profile, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const repoDir = resolve(import.meta.dirname, '..', '..');
  const base = Number(env.EDGEPORT_PORT_BASE ?? (profile === 'dev' ? 17200 : 27200));
  if (!Number.isInteger(base) || base < 1024 || base > 65000) throw new Error(`EDGEPORT_PORT_BASE must be an integer in 1024..65000, got ${env.EDGEPORT_PORT_BASE}`);
  const ports = Object.fromEntries(Object.entries(OFFSETS).map(([k, off]) => [k, base + off])) as unknown as StackPorts;
  return {
    profile,
    host: '127.0.0.1',
    dataDir: resolve(env.EDGEPORT_DATA_DIR ?? join(repoDir, '.edgeport', profile)),
    cacheDir: resolve(env.EDGEPORT_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'edgeport')),
    repoDir,
    ports,
  };
}
