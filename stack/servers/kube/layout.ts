import { join } from 'node:path';
import type { StackConfig } from '../../lib/config.ts';

/** Versions built by `stack/scripts/build-kube.sh`; the cache folder is keyed by all three. */
export const KUBE_VERSIONS = { kube: 'v1.37.2', etcd: 'v3.7.3', kwok: 'v0.8.0' } as const;

/** The Service CIDR (its first address, 10.0.0.1, is in the apiserver certificate) and kwok's Pod CIDR, kept apart. */
export const SERVICE_CIDR = '10.0.0.0/24';
export const POD_CIDR = '10.244.0.0/16';

/** Where the binaries, certificates, kubeconfigs and etcd data of the local control plane live. */
export interface KubeLayout {
  binDir: string;
  stagesDir: string;
  /** `<dataDir>/kubernetes`: everything this server keeps per data folder. */
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

export function kubeLayout(cfg: StackConfig): KubeLayout {
  const build = join(cfg.cacheDir, `kube-${KUBE_VERSIONS.kube}-etcd-${KUBE_VERSIONS.etcd}-kwok-${KUBE_VERSIONS.kwok}`);
  const dir = join(cfg.dataDir, 'kubernetes');
  return {
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
    apiserverUrl: `https://${cfg.host}:${cfg.ports.kubeApiserver}`,
  };
}

/** Paths of one key pair in the PKI folder (`<name>.crt`, `<name>.key`). */
export function pkiPair(layout: KubeLayout, name: string): { crt: string; key: string } {
  return { crt: join(layout.pkiDir, `${name}.crt`), key: join(layout.pkiDir, `${name}.key`) };
}
