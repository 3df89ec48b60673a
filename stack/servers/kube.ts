import { join } from 'node:path';
import { KUBE_CLUSTER_NAMES, type KubeClusterName, type StackConfig } from '../lib/config.ts';
import { isAlive, procFiles, readPid, run } from '../lib/proc.ts';
import type { ServerStatus, StackServer } from '../lib/server.ts';
import { ensurePki, writeKubeconfig } from './kube/certs.ts';
import { probe } from './kube/http.ts';
import { writeKwokConfig } from './kube/kwok-config.ts';
import { KUBE_CLUSTERS, KUBE_VERSIONS, kubeconfigEnvNames, kubeLayout, pkiPair } from './kube/layout.ts';
import { ensureClusterObjects, waitNodesReady } from './kube/objects.ts';
import { components, startComponent, stopComponent } from './kube/processes.ts';

const VERSION = `Kubernetes ${KUBE_VERSIONS.kube} (etcd ${KUBE_VERSIONS.etcd}, kwok ${KUBE_VERSIONS.kwok})`;

/** One build per cache folder and CLI run, shared by every cluster (the script also holds a file lock). */
const builds = new Map<string, Promise<void>>();

function installKube(cfg: StackConfig): Promise<void> {
  let build = builds.get(cfg.cacheDir);
  if (!build) {
    const script = join(cfg.repoDir, 'stack', 'scripts', 'build-kube.sh');
    const env = { EDGEPORT_CACHE: cfg.cacheDir, KUBE_VERSION: KUBE_VERSIONS.kube, ETCD_VERSION: KUBE_VERSIONS.etcd, KWOK_VERSION: KUBE_VERSIONS.kwok };
    build = run('bash', [script], { env, inherit: true }).then(() => undefined);
    builds.set(cfg.cacheDir, build);
  }
  return build;
}

/**
 * A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, built
 * from source into the cache once for all clusters) with kwok simulating the cluster's edge nodes, each a
 * detached process on loopback. `start` creates the PKI and kubeconfigs once per data folder, starts what
 * is not already healthy, applies the cluster objects Edgeport relies on and returns when every edge node
 * is Ready. The clusters are separate servers of the same start order, so they start in parallel.
 */
export function kubeServer(clusterName: KubeClusterName): StackServer {
  const layout = (cfg: StackConfig) => kubeLayout(cfg, clusterName);
  return {
    name: KUBE_CLUSTERS[clusterName].serverName,
    order: 1,
    version: VERSION,
    install: installKube,

    async start(cfg) {
      const l = layout(cfg);
      await ensurePki(l);
      writeKubeconfig(l, l.adminKubeconfig, 'admin');
      writeKubeconfig(l, l.workerKubeconfig, 'worker');
      writeKubeconfig(l, l.controllerManagerKubeconfig, 'controller-manager');
      writeKubeconfig(l, l.schedulerKubeconfig, 'scheduler');
      writeKwokConfig(cfg, l);
      const c = components(cfg, l);
      await startComponent(cfg, c.etcd);
      await startComponent(cfg, c.apiserver);
      await Promise.all([startComponent(cfg, c.controllerManager), startComponent(cfg, c.scheduler), startComponent(cfg, c.kwok), ensureClusterObjects(l)]);
      await waitNodesReady(l, { logFile: procFiles(cfg.dataDir, c.kwok.name).logFile });
    },

    /** Reverse dependency order: kwok, scheduler and controller-manager together, then apiserver, then etcd. */
    async stop(cfg) {
      const c = components(cfg, layout(cfg));
      await Promise.all([c.kwok, c.scheduler, c.controllerManager].map((x) => stopComponent(cfg, x)));
      await stopComponent(cfg, c.apiserver);
      await stopComponent(cfg, c.etcd);
    },

    parts(cfg) {
      return Object.values(components(cfg, layout(cfg))).map((c) => c.name);
    },

    async status(cfg): Promise<ServerStatus> {
      const l = layout(cfg);
      const { apiserver } = components(cfg, l);
      const pid = readPid(procFiles(cfg.dataDir, apiserver.name).pidFile);
      const running = isAlive(pid);
      const healthy = running && (await apiserver.healthy().catch(() => false));
      let version = VERSION;
      if (healthy) {
        const ca = pkiPair(l, 'ca');
        const admin = pkiPair(l, 'admin');
        const res = await probe(`${l.apiserverUrl}/version`, { ca: ca.crt, cert: admin.crt, key: admin.key }).catch(() => undefined);
        if (res?.status === 200) version = VERSION.replace(KUBE_VERSIONS.kube, (JSON.parse(res.body) as { gitVersion: string }).gitVersion);
      }
      return { name: l.cluster.serverName, version, running, healthy, pid: running ? pid : undefined, endpoint: l.apiserverUrl, dataDir: l.dir };
    },

    /** `EDGEPORT_KUBECONFIG`/`EDGEPORT_KUBE_ADMIN_KUBECONFIG` for local, `EDGEPORT_EDGE1_…` for edge-1; kubectl once. */
    env(cfg) {
      const l = layout(cfg);
      const names = kubeconfigEnvNames(l.cluster);
      return {
        [names.worker]: l.workerKubeconfig,
        [names.admin]: l.adminKubeconfig,
        ...(clusterName === 'local' ? { EDGEPORT_KUBECTL: join(l.binDir, 'kubectl') } : {}),
      };
    },
  };
}

/** One server per cluster of the stack: `kubernetes` (local) and `kubernetes-edge-1`. */
export const KUBE_SERVERS: readonly StackServer[] = KUBE_CLUSTER_NAMES.map(kubeServer);
