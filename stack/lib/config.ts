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
  registry: number;
  oidc: number;
  api: number;
  /** One control plane per local cluster (`local` at offsets 20–25, `edge-1` at 60–65). */
  kube: Record<KubeClusterName, KubePorts>;
}

/** The loopback ports of one control plane. */
export interface KubePorts {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

/** The stack's Kubernetes clusters: `local` (the platform's own) and `edge-1` (a second edge pool, arm64 nodes). */
export const KUBE_CLUSTER_NAMES = ['local', 'edge-1'] as const;
export type KubeClusterName = (typeof KUBE_CLUSTER_NAMES)[number];

const OFFSETS: Omit<StackPorts, 'kube'> = {
  temporal: 0,
  temporalUi: 1,
  temporalHttp: 2,
  temporalMetrics: 3,
  mongo: 10,
  redis: 11,
  registry: 30,
  oidc: 40,
  api: 50,
};

/**
 * Test lanes: API ports right after the stack's (`api + 1` … `api + TEST_API_LANES`), each registered as a
 * redirect URI at the test profile's OpenID provider, so test files running side by side can each sign in to
 * an api of their own (`stack/testing/lane-setup.ts`).
 */
export const TEST_API_LANES = 4;

/** The API origins of the test lanes (empty for the dev profile). */
export const laneOrigins = (cfg: Pick<StackConfig, 'profile' | 'host' | 'ports'>): string[] =>
  cfg.profile === 'test' ? Array.from({ length: TEST_API_LANES }, (_, i) => `http://${cfg.host}:${cfg.ports.api + i + 1}`) : [];

/** The Temporal namespace of test lane `lane` (1-based). */
export const laneNamespace = (lane: number): string => `edgeport-lane-${lane}`;

/** The Temporal namespaces of the test lanes (empty for the dev profile). */
export const laneNamespaces = (cfg: Pick<StackConfig, 'profile'>): string[] =>
  cfg.profile === 'test' ? Array.from({ length: TEST_API_LANES }, (_, i) => laneNamespace(i + 1)) : [];

/** Where each cluster's block of ports starts, and each component's place in its block. */
const KUBE_OFFSETS: Record<KubeClusterName, number> = { local: 20, 'edge-1': 60 };
const KUBE_PORT_OFFSETS: KubePorts = { etcd: 0, etcdPeer: 1, apiserver: 2, controllerManager: 3, scheduler: 4, kwok: 5 };

const offsetBy = <T extends object>(offsets: T, base: number): { [K in keyof T]: number } =>
  Object.fromEntries(Object.entries(offsets).map(([k, off]) => [k, base + (off as number)])) as { [K in keyof T]: number };

/**
 * Reads the stack's settings from the environment (the only place the stack scripts do):
 * EDGEPORT_PORT_BASE (dev 17200, test 27200), EDGEPORT_DATA_DIR (dev .edgeport/dev in the clone,
 * test .edgeport/test), EDGEPORT_CACHE (~/.cache/edgeport).
 */
export function loadStackConfig(profile: Profile, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const repoDir = resolve(import.meta.dirname, '..', '..');
  const base = Number(env.EDGEPORT_PORT_BASE ?? (profile === 'dev' ? 17200 : 27200));
  if (!Number.isInteger(base) || base < 1024 || base > 65000)
    throw new Error(`EDGEPORT_PORT_BASE must be an integer in 1024..65000, got ${env.EDGEPORT_PORT_BASE}`);
  const kube = Object.fromEntries(KUBE_CLUSTER_NAMES.map((c) => [c, offsetBy(KUBE_PORT_OFFSETS, base + KUBE_OFFSETS[c])])) as Record<
    KubeClusterName,
    KubePorts
  >;
  const ports: StackPorts = { ...offsetBy(OFFSETS, base), kube };
  return {
    profile,
    host: '127.0.0.1',
    dataDir: resolve(env.EDGEPORT_DATA_DIR ?? join(repoDir, '.edgeport', profile)),
    cacheDir: resolve(env.EDGEPORT_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'edgeport')),
    repoDir,
    ports,
  };
}
