import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createKubeClients } from '../../infra/kube/client.ts';
import { PULL_SECRET_NAME } from '../../common/pull-credentials.ts';
import { appEnv } from './app-env.ts';
import type { StackConfig } from './config.ts';
import { LOG_DIR_MODE, LOG_FILE_MODE } from './proc.ts';

/** Environment variables holding secrets (masked by `stack env`, searched for in logs). */
export const isSecretEnv = (key: string): boolean => /SECRET|_KEYS?$|PASSWORD/.test(key);

export interface NamedSecret {
  name: string;
  value: string;
}

/**
 * Every secret the stack generated for this data folder: the api/worker environment's secrets (session secret,
 * credentials key, OIDC client secret, registry notification secret), the provider's cookie keys and the
 * registry token-signing key (its base64 body lines).
 */
export function stackSecrets(cfg: StackConfig): NamedSecret[] {
  const out: NamedSecret[] = [];
  for (const [name, value] of Object.entries(appEnv(cfg))) {
    if (!isSecretEnv(name)) continue;
    for (const v of value.split(',')) if (v.trim()) out.push({ name, value: v.trim() });
  }
  const oidcFile = join(cfg.dataDir, 'oidc', 'secrets.json');
  if (existsSync(oidcFile)) {
    const s = JSON.parse(readFileSync(oidcFile, 'utf8')) as { clientSecret?: string; cookieKeys?: string[] };
    if (s.clientSecret) out.push({ name: 'oidc client secret', value: s.clientSecret });
    for (const k of s.cookieKeys ?? []) out.push({ name: 'oidc cookie key', value: k });
  }
  const keyFile = join(cfg.dataDir, 'registry', 'token.key');
  if (existsSync(keyFile)) {
    const body = readFileSync(keyFile, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'));
    body.forEach((line, i) => {
      if (line.length >= 32) out.push({ name: `registry token key (line ${i + 1})`, value: line });
    });
  }
  return out.filter((s) => s.value.length >= 8);
}

/**
 * The image pull credentials the worker generated for VDCs during the run: the passwords in every
 * `edgeport-pull` Secret on the stack's clusters (read with their admin kubeconfigs while they still run).
 */
export async function pullCredentialSecrets(cfg: StackConfig): Promise<NamedSecret[]> {
  const env = appEnv(cfg);
  const out: NamedSecret[] = [];
  for (const key of ['EDGEPORT_KUBE_ADMIN_KUBECONFIG', 'EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG']) {
    const file = env[key];
    if (!file || !existsSync(file)) continue;
    const list = await createKubeClients(file).core.listSecretForAllNamespaces({ fieldSelector: `metadata.name=${PULL_SECRET_NAME}` });
    for (const secret of list.items) {
      const raw = secret.data?.['.dockerconfigjson'];
      if (!raw) continue;
      const auths = (JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as { auths?: Record<string, { password?: string; auth?: string }> }).auths ?? {};
      for (const a of Object.values(auths)) {
        const where = `pull credential of ${secret.metadata?.namespace}`;
        if (a.password) out.push({ name: where, value: a.password });
        if (a.auth) out.push({ name: `${where} (basic auth)`, value: a.auth });
      }
    }
  }
  return out;
}

/**
 * What is wrong with a logs folder: its mode (0700), a file's mode (0600), or a secret in a file. A problem
 * names the file and the secret's name, never its value.
 */
export function logHygieneProblems(logsDir: string, secrets: readonly NamedSecret[]): string[] {
  if (!existsSync(logsDir)) return [];
  const problems: string[] = [];
  const dirMode = statSync(logsDir).mode & 0o777;
  if (dirMode !== LOG_DIR_MODE) problems.push(`${logsDir}: mode ${dirMode.toString(8)}, want ${LOG_DIR_MODE.toString(8)}`);
  for (const entry of readdirSync(logsDir, { withFileTypes: true })) {
    const file = join(logsDir, entry.name);
    if (!entry.isFile()) {
      problems.push(`${file}: not a plain file`);
      continue;
    }
    const mode = statSync(file).mode & 0o777;
    if (mode !== LOG_FILE_MODE) problems.push(`${file}: mode ${mode.toString(8)}, want ${LOG_FILE_MODE.toString(8)}`);
    const text = readFileSync(file, 'latin1');
    for (const s of secrets) if (text.includes(s.value)) problems.push(`${file}: contains ${s.name}`);
  }
  return problems;
}
