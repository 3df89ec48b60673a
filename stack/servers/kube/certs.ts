import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpYaml } from '@kubernetes/client-node';
import { run } from '../../lib/proc.ts';
import { type KubeLayout, pkiPair } from './layout.ts';

interface CertSpec {
  name: string;
  subject: string;
  /** Name of the signing CA; absent for a self-signed CA. */
  issuer?: string;
  usage?: 'serverAuth' | 'clientAuth';
  sans?: string;
}

/**
 * A control plane's PKI. Client certificates carry the identity RBAC sees: CN is the user, O the group
 * (`system:masters` for admin; the built-in roles for `system:kube-controller-manager`/`-scheduler`).
 * The CAs are named after the cluster (`edgeport-…` for local, `edgeport-edge-1-…`), each its own key.
 */
const certSpecs = (clusterName: string): readonly CertSpec[] => [
  { name: 'ca', subject: `/CN=${clusterName}-kubernetes-ca` },
  { name: 'front-proxy-ca', subject: `/CN=${clusterName}-front-proxy-ca` },
  {
    name: 'apiserver',
    subject: '/CN=kube-apiserver',
    issuer: 'ca',
    usage: 'serverAuth',
    sans: 'IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1',
  },
  { name: 'admin', subject: '/O=system:masters/CN=edgeport-admin', issuer: 'ca', usage: 'clientAuth' },
  { name: 'controller-manager', subject: '/CN=system:kube-controller-manager', issuer: 'ca', usage: 'clientAuth' },
  { name: 'scheduler', subject: '/CN=system:kube-scheduler', issuer: 'ca', usage: 'clientAuth' },
  { name: 'worker', subject: '/CN=edgeport-worker', issuer: 'ca', usage: 'clientAuth' },
  { name: 'front-proxy-client', subject: '/CN=front-proxy-client', issuer: 'front-proxy-ca', usage: 'clientAuth' },
];

/** CN the apiserver accepts on request-header (aggregation) client certificates. */
export const FRONT_PROXY_CLIENT_CN = 'front-proxy-client';

/**
 * Creates, once per data folder, the CAs, certificates (P-256, 10 years) and the service-account key pair
 * with openssl. Existing files are kept, so a restart reuses them; a missing pair is re-issued from the CA.
 */
export async function ensurePki(layout: KubeLayout): Promise<void> {
  mkdirSync(layout.pkiDir, { recursive: true, mode: 0o700 });
  // A minimal config so the system openssl.cnf adds no extensions of its own.
  const conf = join(layout.pkiDir, 'openssl.cnf');
  if (!existsSync(conf)) writeFileSync(conf, '[req]\ndistinguished_name = dn\n[dn]\n');
  for (const spec of certSpecs(layout.cluster.clusterName)) {
    const { crt, key } = pkiPair(layout, spec.name);
    if (existsSync(crt)) continue;
    const args = ['req', '-config', conf, '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];
    args.push('-keyout', key, '-out', crt, '-days', '3650', '-subj', spec.subject);
    if (spec.issuer === undefined) {
      args.push('-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature');
    } else {
      const ca = pkiPair(layout, spec.issuer);
      args.push('-CA', ca.crt, '-CAkey', ca.key, '-addext', 'basicConstraints=critical,CA:FALSE');
      args.push('-addext', 'keyUsage=critical,digitalSignature', '-addext', `extendedKeyUsage=${spec.usage}`);
      if (spec.sans) args.push('-addext', `subjectAltName=${spec.sans}`);
    }
    await run('openssl', args);
  }
  const sa = serviceAccountKeys(layout);
  if (!existsSync(sa.publicKey)) {
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', sa.privateKey]);
    await run('openssl', ['pkey', '-in', sa.privateKey, '-pubout', '-out', sa.publicKey]);
  }
}

/** The service-account token signing key (private) and verification key (public). */
export function serviceAccountKeys(layout: KubeLayout): { privateKey: string; publicKey: string } {
  return { privateKey: join(layout.pkiDir, 'sa.key'), publicKey: join(layout.pkiDir, 'sa.pub') };
}

const b64 = (file: string): string => readFileSync(file).toString('base64');

/** Writes a kubeconfig (mode 0600) for the client certificate `certName`, with CA, cert and key embedded. */
export function writeKubeconfig(layout: KubeLayout, path: string, certName: string): void {
  const { crt, key } = pkiPair(layout, certName);
  const name = layout.cluster.clusterName;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: layout.apiserverUrl, 'certificate-authority-data': b64(pkiPair(layout, 'ca').crt) } }],
    users: [{ name: certName, user: { 'client-certificate-data': b64(crt), 'client-key-data': b64(key) } }],
    contexts: [{ name, context: { cluster: name, user: certName } }],
    'current-context': name,
  };
  writeFileSync(path, dumpYaml(config), { mode: 0o600 });
}

/** The kubeconfig joining edge nodes read from kube-public/cluster-info: cluster only, no credentials. */
export function clusterInfoKubeconfig(layout: KubeLayout): string {
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: '', cluster: { server: layout.apiserverUrl, 'certificate-authority-data': b64(pkiPair(layout, 'ca').crt) } }],
    contexts: [],
    users: [],
  });
}
