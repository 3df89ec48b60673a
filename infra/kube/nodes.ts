import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import type { NodeStatus, NodeView } from '../../common/pools.ts';
import { parseQuantity } from './quantity.ts';

// Node reads shared by the pool activities and the API's read-only pool views.

const PAGE = 500;
export const GI = 2 ** 30;
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The Ready condition as a status. */
export function nodeStatus(node: V1Node): NodeStatus {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
}

/** A named quantity of a resource list as a number (absent: 0). */
export const quantity = (list: Record<string, string> | undefined, name: string): number => {
  const q = list?.[name];
  return q === undefined ? 0 : parseQuantity(q);
};

/** Every Node of the cluster, page by page. */
export async function listAllNodes(core: Pick<CoreV1Api, 'listNode'>): Promise<V1Node[]> {
  const items: V1Node[] = [];
  let cont: string | undefined;
  do {
    const page = await core.listNode({ limit: PAGE, ...(cont ? { _continue: cont } : {}) });
    items.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return items;
}

/** What the portal shows of a Node. */
export function nodeView(node: V1Node, pods: number): NodeView {
  const cap = node.status?.capacity;
  return {
    name: node.metadata?.name ?? '',
    status: nodeStatus(node),
    schedulable: node.spec?.unschedulable !== true,
    architecture: node.status?.nodeInfo?.architecture ?? node.metadata?.labels?.['kubernetes.io/arch'] ?? 'unknown',
    os: node.status?.nodeInfo?.operatingSystem ?? node.metadata?.labels?.['kubernetes.io/os'] ?? 'unknown',
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
    pods,
    labels: node.metadata?.labels ?? {},
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
    capacity: { cpu: round3(quantity(cap, 'cpu')), memoryGi: round3(quantity(cap, 'memory') / GI), pods: quantity(cap, 'pods') },
    ...(node.metadata?.creationTimestamp ? { createdAt: new Date(node.metadata.creationTimestamp).toISOString() } : {}),
  };
}
