import type { KubernetesObject } from '@kubernetes/client-node';
import type { WorkloadSpec } from '../../common/workload.ts';
import type { KubeClients } from './client.ts';
import { readObject } from './workload.ts';

type Kind = 'ConfigMap' | 'Secret';
type Holder = KubernetesObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

/** One reference of the spec to a ConfigMap or Secret key (or to the whole object), with its field path. */
interface ConfigRef {
  field: string;
  kind: Kind;
  name: string;
  key?: string;
}

/** Every ConfigMap / Secret the spec's containers read: env `configMapRef` / `secretRef` and `configMounts`. */
export function configRefs(spec: WorkloadSpec): ConfigRef[] {
  const refs: ConfigRef[] = [];
  spec.containers.forEach((c, i) => {
    (c.env ?? []).forEach((e, j) => {
      if ('configMapRef' in e) refs.push({ field: `containers[${i}].env[${j}].configMapRef`, kind: 'ConfigMap', ...e.configMapRef });
      if ('secretRef' in e) refs.push({ field: `containers[${i}].env[${j}].secretRef`, kind: 'Secret', ...e.secretRef });
    });
    (c.configMounts ?? []).forEach((m, j) => {
      const kind: Kind = m.secret !== undefined ? 'Secret' : 'ConfigMap';
      refs.push({
        field: `containers[${i}].configMounts[${j}].${kind === 'Secret' ? 'secret' : 'configMap'}`,
        kind,
        name: m.secret ?? m.configMap ?? '',
        ...(m.key ? { key: m.key } : {}),
      });
    });
  });
  return refs;
}

/**
 * Preflight refusals for references to ConfigMaps, Secrets or keys that do not exist in the namespace
 * (the spec's own `configMaps` count as existing). Only key names are read; values never leave here.
 */
export async function missingConfigRefs(kube: KubeClients, spec: WorkloadSpec, namespace: string): Promise<string[]> {
  const own = new Map((spec.configMaps ?? []).map((c) => [`ConfigMap/${c.name}`, new Set(Object.keys(c.data))]));
  const cache = new Map<string, Set<string> | null>();
  const keysOf = async (kind: Kind, name: string): Promise<Set<string> | null> => {
    const id = `${kind}/${name}`;
    const mine = own.get(id);
    if (mine) return mine;
    if (!cache.has(id)) {
      const live = await readObject<Holder>(kube, { apiVersion: 'v1', kind, metadata: { name, namespace } });
      cache.set(id, live ? new Set([...Object.keys(live.data ?? {}), ...Object.keys(live.binaryData ?? {})]) : null);
    }
    return cache.get(id) ?? null;
  };
  const problems: string[] = [];
  for (const r of configRefs(spec)) {
    const keys = await keysOf(r.kind, r.name);
    if (!keys) problems.push(`${r.field}: ${r.kind} ${r.name} does not exist in namespace ${namespace}`);
    else if (r.key !== undefined && !keys.has(r.key)) problems.push(`${r.field}: ${r.kind} ${r.name} has no key ${r.key} in namespace ${namespace}`);
  }
  return problems;
}
