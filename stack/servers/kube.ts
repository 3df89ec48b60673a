import { join } from 'node:path';
import { isAlive, procFiles, readPid, run } from '../lib/proc.ts';
import type { ServerStatus, StackServer } from '../lib/server.ts';
import { ensurePki, writeKubeconfig } from './kube/certs.ts';
import { probe } from './kube/http.ts';
import { writeKwokConfig } from './kube/kwok-config.ts';
import { KUBE_VERSIONS, kubeLayout, pkiPair } from './kube/layout.ts';
import { ensureClusterObjects, waitNodesReady } from './kube/objects.ts';
import { components, startComponent, stopComponent } from './kube/processes.ts';

const VERSION = `Kubernetes ${KUBE_VERSIONS.kube} (etcd ${KUBE_VERSIONS.etcd}, kwok ${KUBE_VERSIONS.kwok})`;

/**
 * A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, built
 * from source into the cache) with kwok simulating the edge nodes, each a detached process on loopback.
 * `start` creates the PKI and kubeconfigs once per data folder, starts what is not already healthy,
 * applies the cluster objects Edgeport relies on and returns when both edge nodes are Ready.
 */
export const kube: StackServer = {
  name: 'kubernetes',
  order: 1,
  version: VERSION,

  async install(cfg) {
    const script = join(cfg.repoDir, 'stack', 'scripts', 'build-kube.sh');
    const env = { EDGEPORT_CACHE: cfg.cacheDir, KUBE_VERSION: KUBE_VERSIONS.kube, ETCD_VERSION: KUBE_VERSIONS.etcd, KWOK_VERSION: KUBE_VERSIONS.kwok };
    await run('bash', [script], { env, inherit: true });
  },

  async start(cfg) {
    const l = kubeLayout(cfg);
    await ensurePki(l);
    writeKubeconfig(l, l.adminKubeconfig, 'admin');
    writeKubeconfig(l, l.workerKubeconfig, 'worker');
    writeKubeconfig(l, l.controllerManagerKubeconfig, 'controller-manager');
    writeKubeconfig(l, l.schedulerKubeconfig, 'scheduler');
    writeKwokConfig(cfg, l);
    const c = components(cfg, l);
    await startComponent(cfg, c.etcd);
    await startComponent(cfg, c.apiserver);
    await Promise.all([
      startComponent(cfg, c.controllerManager),
      startComponent(cfg, c.scheduler),
      startComponent(cfg, c.kwok),
      ensureClusterObjects(l),
    ]);
    await waitNodesReady(l, { logFile: procFiles(cfg.dataDir, c.kwok.name).logFile });
  },

  /** Reverse dependency order: kwok, scheduler and controller-manager together, then apiserver, then etcd. */
  async stop(cfg) {
    const c = components(cfg, kubeLayout(cfg));
    await Promise.all([c.kwok, c.scheduler, c.controllerManager].map((x) => stopComponent(cfg, x)));
    await stopComponent(cfg, c.apiserver);
    await stopComponent(cfg, c.etcd);
  },

  async status(cfg): Promise<ServerStatus> {
    const l = kubeLayout(cfg);
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
    return { name: 'kubernetes', version, running, healthy, pid: running ? pid : undefined, endpoint: l.apiserverUrl, dataDir: l.dir };
  },

  env(cfg) {
    const l = kubeLayout(cfg);
    return {
      EDGEPORT_KUBECONFIG: l.workerKubeconfig,
      EDGEPORT_KUBE_ADMIN_KUBECONFIG: l.adminKubeconfig,
      EDGEPORT_KUBECTL: join(l.binDir, 'kubectl'),
    };
  },
};
