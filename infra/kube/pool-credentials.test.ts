import { describe, expect, it } from 'vitest';
import { credentialsFromKubeconfig, KubeconfigError } from './pool-credentials.ts';

const kubeconfig = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': 'Q0E=', ...cluster } }],
    users: [
      { name: 'u', user },
      { name: 'other', user: { token: 'other-token' } },
    ],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });

describe('credentialsFromKubeconfig', () => {
  it('keeps only the current context: embedded token or client certificate, CA and server', () => {
    expect(credentialsFromKubeconfig(kubeconfig({ token: 't0k' }))).toEqual({
      server: 'https://10.0.0.1:6443',
      credentials: { type: 'token', token: 't0k', caData: 'Q0E=' },
    });
    expect(credentialsFromKubeconfig(kubeconfig({ 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' }, { 'tls-server-name': 'kube' }))).toEqual({
      server: 'https://10.0.0.1:6443',
      credentials: { type: 'client-cert', certData: 'Y2VydA==', keyData: 'a2V5', caData: 'Q0E=', tlsServerName: 'kube' },
    });
  });

  it.each([
    ['exec plugins (would run a program in the worker)', { exec: { command: 'sh', args: ['-c', 'id'] } }, {}, /exec/],
    ['token files (would read a worker file)', { 'token-file': '/etc/passwd' }, {}, /token-file/],
    ['client certificate files', { 'client-certificate': '/x.crt', 'client-key': '/x.key' }, {}, /client-certificate/],
    ['auth providers', { 'auth-provider': { name: 'oidc' } }, {}, /auth-provider/],
    ['basic auth', { username: 'a', password: 'b' }, {}, /username/],
    ['skipping TLS verification', { token: 't' }, { 'insecure-skip-tls-verify': true }, /insecure-skip-tls-verify/],
    ['a CA file', { token: 't' }, { 'certificate-authority': '/ca.crt' }, /certificate-authority/],
    ['a proxy', { token: 't' }, { 'proxy-url': 'http://evil:3128' }, /proxy-url/],
    ['a user without credentials', {}, {}, /either token or both/],
  ])('refuses %s', (_what, user, cluster, message) => {
    expect(() => credentialsFromKubeconfig(kubeconfig(user, cluster))).toThrow(KubeconfigError);
    expect(() => credentialsFromKubeconfig(kubeconfig(user, cluster))).toThrow(message);
  });

  it('refuses what is not a kubeconfig', () => {
    expect(() => credentialsFromKubeconfig('a: [')).toThrow(/not valid YAML/);
    expect(() => credentialsFromKubeconfig('just text')).toThrow(/not a kubeconfig/);
    expect(() => credentialsFromKubeconfig('a: !!js/function "x"')).toThrow(/not valid YAML/);
    expect(() => credentialsFromKubeconfig(JSON.stringify({ clusters: [] }))).toThrow(/current-context/);
  });
});
