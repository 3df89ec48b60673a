import { join } from 'node:path';
import type { StackConfig } from '../../lib/config.ts';
import { isAlive, procFiles, readPid, spawnDetached, stopPid, waitFor } from '../../lib/proc.ts';
import { FRONT_PROXY_CLIENT_CN, serviceAccountKeys } from './certs.ts';
import { probe, probeOk } from './http.ts';
import { KWOK_NODE_ANNOTATION } from './kwok-config.ts';
import { type KubeLayout, pkiPair, SERVICE_CIDR } from './layout.ts';
import { releaseNodeLeases } from './objects.ts';

/** One process of the control plane: its command line and how to tell it is serving. */
export interface Component {
  /** Also the pid-file and log name under the data folder. */
  name: string;
  cmd: string;
  args: string[];
  healthy(): Promise<boolean>;
  /** Runs before a (re)start, never when the process is already healthy. */
  prepare?(): Promise<void>;
  /** Starts tried when the process dies during start-up (default 1). */
  startAttempts?: number;
}

/**
 * One cluster's processes: etcd ← apiserver ← controller-manager, scheduler, kwok. Their pid files and logs
 * are named `<procPrefix><component>` (`kube-apiserver` for local, `edge-1-kube-apiserver` for edge-1).
 */
export interface ControlPlane {
  etcd: Component;
  apiserver: Component;
  controllerManager: Component;
  scheduler: Component;
  kwok: Component;
}

export function components(cfg: StackConfig, l: KubeLayout): ControlPlane {
  const { host } = cfg;
  const { ports, cluster } = l;
  const procName = (component: string): string => `${cluster.procPrefix}${component}`;
  const bin = (name: string): string => join(l.binDir, name);
  const ca = pkiPair(l, 'ca');
  const admin = pkiPair(l, 'admin');
  const sa = serviceAccountKeys(l);
  const etcdUrl = `http://${host}:${ports.etcd}`;
  const peerUrl = `http://${host}:${ports.etcdPeer}`;

  const etcd: Component = {
    name: procName('etcd'),
    cmd: bin('etcd'),
    args: [
      '--name=edgeport',
      `--data-dir=${l.etcdDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=edgeport=${peerUrl}`,
      '--log-level=warn',
      // The test profile's data is thrown away, so skip fsync there.
      ...(cfg.profile === 'test' ? ['--unsafe-no-fsync=true'] : []),
    ],
    healthy: async () => probeOk(`${etcdUrl}/health`),
  };

  const frontProxyClient = pkiPair(l, 'front-proxy-client');
  const apiserver: Component = {
    name: procName('kube-apiserver'),
    cmd: bin('kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      `--secure-port=${ports.apiserver}`,
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${pkiPair(l, 'apiserver').crt}`,
      `--tls-private-key-file=${pkiPair(l, 'apiserver').key}`,
      `--client-ca-file=${ca.crt}`,
      '--authorization-mode=Node,RBAC',
      '--enable-bootstrap-token-auth=true',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${sa.publicKey}`,
      `--service-account-signing-key-file=${sa.privateKey}`,
      `--requestheader-client-ca-file=${pkiPair(l, 'front-proxy-ca').crt}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_CN}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${frontProxyClient.crt}`,
      `--proxy-client-key-file=${frontProxyClient.key}`,
      // kwok serves pod logs on the node's InternalIP (127.0.0.1) and kubelet port, with a throw-away certificate.
      '--kubelet-preferred-address-types=InternalIP',
      '--profiling=false',
    ],
    healthy: async () => probeOk(`${l.apiserverUrl}/readyz`, { ca: ca.crt, cert: admin.crt, key: admin.key }),
  };

  // Delegated authn/authz through the same kubeconfig; single instances, so no leader election (a restart
  // would otherwise wait for the previous instance's lease to expire).
  const delegated = (kubeconfig: string, port: number): string[] => [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--bind-address=${host}`,
    `--secure-port=${port}`,
    '--leader-elect=false',
  ];
  const controllerManager: Component = {
    name: procName('kube-controller-manager'),
    cmd: bin('kube-controller-manager'),
    args: [
      ...delegated(l.controllerManagerKubeconfig, ports.controllerManager),
      '--use-service-account-credentials=true',
      '--controllers=*,bootstrapsigner,tokencleaner',
      `--service-account-private-key-file=${sa.privateKey}`,
      `--root-ca-file=${ca.crt}`,
      `--client-ca-file=${ca.crt}`,
      `--requestheader-client-ca-file=${pkiPair(l, 'front-proxy-ca').crt}`,
      `--cluster-signing-cert-file=${ca.crt}`,
      `--cluster-signing-key-file=${ca.key}`,
      `--cluster-name=${cluster.clusterName}`,
      // Its default is under /usr/libexec, which it would create on the host.
      `--flex-volume-plugin-dir=${join(l.dir, 'flexvolume')}`,
      '--profiling=false',
    ],
    // /healthz passes while controllers are still being built; their named checks appear once all run
    // (until then new namespaces get no default ServiceAccount and ReplicaSets back off for seconds).
    healthy: async () => {
      const res = await probe(`https://${host}:${ports.controllerManager}/healthz?verbose`, { insecure: true });
      return res.status === 200 && res.body.includes('[+]serviceaccount-controller ok');
    },
  };

  const scheduler: Component = {
    name: procName('kube-scheduler'),
    cmd: bin('kube-scheduler'),
    args: [...delegated(l.schedulerKubeconfig, ports.scheduler), '--profiling=false'],
    healthy: async () => probeOk(`https://${host}:${ports.scheduler}/readyz`, { insecure: true }),
  };

  const kwok: Component = {
    name: procName('kwok'),
    cmd: bin('kwok'),
    args: [
      `--kubeconfig=${l.adminKubeconfig}`,
      `--config=${l.kwokConfig}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
    ],
    healthy: async () => probeOk(`http://${host}:${ports.kwok}/healthz`),
    prepare: () => releaseNodeLeases(l),
    // kwok v0.8.0 sometimes dies at start with "fatal error: concurrent map writes" (a race in its CEL
    // type registry while installing metrics); a fresh start gets past it.
    startAttempts: 3,
  };

  return { etcd, apiserver, controllerManager, scheduler, kwok };
}

/** Starts `c` detached unless it is already running and healthy; resolves once healthy. */
export async function startComponent(cfg: StackConfig, c: Component, timeoutMs = 60_000): Promise<void> {
  const files = procFiles(cfg.dataDir, c.name);
  if (isAlive(readPid(files.pidFile)) && (await c.healthy().catch(() => false))) return;
  const attempts = c.startAttempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    await stopPid(files.pidFile);
    await c.prepare?.();
    const pid = spawnDetached(c.cmd, c.args, files);
    try {
      await waitFor(c.name, () => c.healthy(), { timeoutMs, logFile: files.logFile, pid, intervalMs: 100 });
      return;
    } catch (err) {
      const died = err instanceof Error && err.message.includes('exited during start-up');
      if (!died || attempt >= attempts) throw err;
      console.error(`  ${c.name} exited during start-up; starting it again (${attempt + 1}/${attempts})`);
    }
  }
}

export async function stopComponent(cfg: StackConfig, c: Component): Promise<void> {
  await stopPid(procFiles(cfg.dataDir, c.name).pidFile);
}
