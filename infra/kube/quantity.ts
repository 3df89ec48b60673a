import type { Quota } from '../../common/tickets.ts';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** Parses a Kubernetes quantity ("500m", "12Gi", "1e3") to a plain number of base units. */
export function parseQuantity(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) throw new Error(`not a Kubernetes quantity: ${q}`);
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  if (factor === undefined || Number.isNaN(value)) throw new Error(`not a Kubernetes quantity: ${q}`);
  return value * factor;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** ResourceQuota `hard`/`used` map → Edgeport quota (cpu cores, memory GiB, pods, requested storage GiB). */
export function fromResourceList(list: Record<string, string> | undefined): Quota {
  const q: Quota = {};
  if (!list) return q;
  const cpu = list['requests.cpu'] ?? list.cpu;
  const mem = list['requests.memory'] ?? list.memory;
  if (cpu !== undefined) q.cpu = round3(parseQuantity(cpu));
  if (mem !== undefined) q.memoryGi = round3(parseQuantity(mem) / 2 ** 30);
  if (list.pods !== undefined) q.pods = Math.round(parseQuantity(list.pods));
  if (list['requests.storage'] !== undefined) q.storageGi = round3(parseQuantity(list['requests.storage']) / 2 ** 30);
  return q;
}

/** Edgeport quota → ResourceQuota `hard` (requests and limits share the value in the skeleton). */
export function toResourceList(q: Quota): Record<string, string> {
  const hard: Record<string, string> = {};
  if (q.cpu !== undefined) hard['requests.cpu'] = hard['limits.cpu'] = `${Math.round(q.cpu * 1000)}m`;
  if (q.memoryGi !== undefined) hard['requests.memory'] = hard['limits.memory'] = `${Math.round(q.memoryGi * 1024)}Mi`;
  if (q.pods !== undefined) hard.pods = String(q.pods);
  // The sum of the namespace's PersistentVolumeClaim requests; the kube-apiserver refuses a claim beyond it.
  if (q.storageGi !== undefined) hard['requests.storage'] = `${Math.round(q.storageGi * 1024)}Mi`;
  return hard;
}
