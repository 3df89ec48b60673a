import { join } from 'node:path';
import type { KubeClusterName, KubePorts, StackConfig } from '../../lib/config.ts';

/** Versions built by `stack/scripts/build-kube.sh`; the cache folder is keyed by all three. */
export const KUBE_VERSIONS = { kube: 'v1.37.2', etcd: 'v3.7.3', kwok: 'v0.8.0' } as const;

/** The Service CIDR of every cluster (its first address, 10.0.0.1, is in the apiserver certificate). */
export const SERVICE_CIDR = '10.0.0.0/24';

/** A simulated edge node kwok keeps Ready. */
export interface EdgeNode {
  name: string;
  arch: 'amd64' | 'arm64';
}

/** What tells the stack's clusters apart; everything else about a control plane is the same for all. */
export interface KubeCluster {
  name: KubeClusterName;
  /** Name in `stack status` and of the cluster's folder under the data folder. */
  serverName: string;
  /** Prefix of its processes' pid files and logs (`stack logs <prefix>kube-apiserver`); none for `local`. */
  procPrefix: string;
  /** Kubeconfig cluster/context name, controller-manager `--cluster-name`, and prefix of its CAs' common names. */
  clusterName: string;
  /** Prefix of the variables naming its kubeconfigs in the app env (`<prefix>KUBECONFIG`, `<prefix>KUBE_ADMIN_KUBECONFIG`). */
  envPrefix: string;
  /** Display name of the resource pool the seed registers it as (pool id = `name`). */
  poolName: string;
  nodes: readonly EdgeNode[];
  /** kwok's Pod CIDR, apart from the Service CIDR and from the other clusters' (pod IPs tell the cluster). */
  podCidr: string;
}

/** The local cluster's nodes, one per CPU architecture Edgeport schedules for. */
const LOCAL_NODES = [
  { name: 'edge-amd64-1', arch: 'amd64' },
  { name: 'edge-arm64-1', arch: 'arm64' },
] as const satisfies readonly EdgeNode[];

/**
 * The stack's clusters: `local`, the platform's own (ports, paths and env unchanged from the single-cluster
 * stack), and `edge-1`, a second control plane whose kwok nodes are all arm64, registered as edge pool `edge-1`.
 */
export const KUBE_CLUSTERS: Readonly<Record<KubeClusterName, KubeCluster>> = {
  local: {
    name: 'local',
    serverName: 'kubernetes',
    procPrefix: '',
    clusterName: 'edgeport',
    envPrefix: 'EDGEPORT_',
    poolName: 'Local cluster',
    nodes: LOCAL_NODES,
    podCidr: '10.244.0.0/16',
  },
  'edge-1': {
    name: 'edge-1',
    serverName: 'kubernetes-edge-1',
    procPrefix: 'edge-1-',
    clusterName: 'edgeport-edge-1',
    envPrefix: 'EDGEPORT_EDGE1_',
    poolName: 'Edge 1 (arm64)',
    nodes: [
      { name: 'edge-1-arm64-1', arch: 'arm64' },
      { name: 'edge-1-arm64-2', arch: 'arm64' },
    ],
    podCidr: '10.245.0.0/16',
  },
};

/** The local cluster's edge nodes (tests that cordon or count them import this). */
export const EDGE_NODES = LOCAL_NODES;

/** Names of the app-env variables holding a cluster's worker and admin kubeconfig paths. */
export function kubeconfigEnvNames(c: KubeCluster): { worker: string; admin: string } {
  return { worker: `${c.envPrefix}KUBECONFIG`, admin: `${c.envPrefix}KUBE_ADMIN_KUBECONFIG` };
}

/** Where the binaries, certificates, kubeconfigs and etcd data of one local control plane live. */
export interface KubeLayout {
  cluster: KubeCluster;
  ports: KubePorts;
  binDir: string;
  stagesDir: string;
  /** `<dataDir>/kubernetes` (`kubernetes-edge-1`): everything this cluster keeps per data folder. */
  dir: string;
  pkiDir: string;
  etcdDir: string;
  kwokDir: string;
  kwokConfig: string;
  adminKubeconfig: string;
  workerKubeconfig: string;
  controllerManagerKubeconfig: string;
  schedulerKubeconfig: string;
  apiserverUrl: string;
}

export function kubeLayout(cfg: StackConfig, clusterName: KubeClusterName = 'local'): KubeLayout {
  const build = join(cfg.cacheDir, `kube-${KUBE_VERSIONS.kube}-etcd-${KUBE_VERSIONS.etcd}-kwok-${KUBE_VERSIONS.kwok}`);
  const cluster = KUBE_CLUSTERS[clusterName];
  const ports = cfg.ports.kube[clusterName];
  const dir = join(cfg.dataDir, cluster.serverName);
  return {
    cluster,
    ports,
    binDir: join(build, 'bin'),
    stagesDir: join(build, 'kwok-stages'),
    dir,
    pkiDir: join(dir, 'pki'),
    etcdDir: join(dir, 'etcd'),
    kwokDir: join(dir, 'kwok'),
    kwokConfig: join(dir, 'kwok', 'kwok.yaml'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    workerKubeconfig: join(dir, 'worker.kubeconfig'),
    controllerManagerKubeconfig: join(dir, 'controller-manager.kubeconfig'),
    schedulerKubeconfig: join(dir, 'scheduler.kubeconfig'),
    apiserverUrl: `https://${cfg.host}:${ports.apiserver}`,
  };
}

/** Paths of one key pair in the PKI folder (`<name>.crt`, `<name>.key`). */
export function pkiPair(layout: KubeLayout, name: string): { crt: string; key: string } {
  return { crt: join(layout.pkiDir, `${name}.crt`), key: join(layout.pkiDir, `${name}.key`) };
}
