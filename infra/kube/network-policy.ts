import type {
  KubernetesObject,
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
} from '@kubernetes/client-node';
import {
  NETWORK_LABELS,
  SPACE_DEFAULT_POLICY_NAME,
  securityGroupPolicyName,
  type Peer,
  type SecurityGroup,
  type SecurityRule,
  type SpaceNetworkDefault,
  type WorkloadRef,
} from '../../common/network.ts';
import { WORKLOAD_LABELS } from '../../common/workload.ts';
import { FIELD_MANAGER, isNotFound, mapKubeError, type KubeClients } from './client.ts';
import { workloadPodSelector } from './workload.ts';

/** Label every namespace carries (set by the kube-apiserver itself), so a space is selected by its namespace name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** What the renderer needs to know about a VDC: its groups, where its workloads are, its spaces and their defaults. */
export interface NetworkModel {
  vdcId: string;
  groups: readonly Pick<SecurityGroup, 'id' | 'name' | 'rules' | 'members'>[];
  /** The spaces of the VDC (name → namespace); a `space` peer names one of them. */
  spaces: readonly { name: string; namespace: string }[];
  /** Spaces whose default is not Kubernetes' own (allow all). */
  defaults: readonly { namespace: string; policy: SpaceNetworkDefault }[];
}

const byNamespace = (refs: readonly WorkloadRef[]): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const r of refs) {
    const names = out.get(r.namespace) ?? [];
    if (!names.includes(r.name)) names.push(r.name);
    out.set(r.namespace, names);
  }
  for (const names of out.values()) names.sort();
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
};

const namespaceSelector = (namespace: string) => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } });

/** Pods of the named workloads of one namespace: their pod selector (the name label), merged into one `In`. */
function podsOf(names: readonly string[]): V1LabelSelector {
  const single = names.length === 1 ? (names[0] as string) : undefined;
  if (single !== undefined) return { matchLabels: workloadPodSelector(single) };
  const [key] = Object.keys(workloadPodSelector(''));
  return { matchExpressions: [{ key: key ?? WORKLOAD_LABELS.name, operator: 'In', values: [...names] }] };
}

/**
 * The peers a rule's peer stands for. A group stands for its members' pods (one peer per namespace they
 * run in); a group without members stands for nothing, and the caller drops the rule rather than render
 * an empty `from`/`to`, which Kubernetes reads as "everyone".
 */
export function renderPeers(peer: Peer, model: NetworkModel): V1NetworkPolicyPeer[] {
  switch (peer.kind) {
    case 'cidr':
      return [{ ipBlock: { cidr: peer.cidr } }];
    case 'space': {
      const space = model.spaces.find((s) => s.name === peer.space);
      return space ? [{ namespaceSelector: namespaceSelector(space.namespace) }] : [];
    }
    case 'workload':
      return [{ namespaceSelector: namespaceSelector(peer.namespace), podSelector: podsOf([peer.name]) }];
    case 'group': {
      const group = model.groups.find((g) => g.id === peer.group);
      if (!group) return [];
      return [...byNamespace(group.members).entries()].map(([ns, names]) => ({ namespaceSelector: namespaceSelector(ns), podSelector: podsOf(names) }));
    }
  }
}

const ports = (r: SecurityRule): V1NetworkPolicyPort[] => [
  { protocol: r.protocol, port: r.port, ...(r.endPort !== undefined && r.endPort !== r.port ? { endPort: r.endPort } : {}) },
];

const labels = (vdcId: string, owner: 'security-group' | 'space-default', groupId?: string): Record<string, string> => ({
  [NETWORK_LABELS.vdc]: vdcId,
  [NETWORK_LABELS.owner]: owner,
  ...(groupId ? { [NETWORK_LABELS.group]: groupId } : {}),
  [NETWORK_LABELS.managedBy]: 'edgeport',
});

/**
 * Every NetworkPolicy the VDC's groups and space defaults stand for. Pure and deterministic (sorted).
 * - A group renders one policy per namespace holding any of its members, named `edgeport-<group id>`,
 *   selecting the members' pods. Like a cloud security group it denies all ingress its `in` rules do not
 *   allow; egress is restricted only once the group has an `out` rule.
 * - A rule becomes one ingress/egress entry with its port (range) and the pods, namespaces or CIDR its
 *   peer stands for; a rule whose peer stands for nothing (a group without members, a space since
 *   deleted) is left out rather than rendered as "from everyone".
 * - A space with the `deny-other-spaces` default gets `edgeport-space-default`: all its pods admit
 *   ingress from the same namespace only (groups' rules still add what they allow).
 * Every policy carries the VDC and owner labels that pruning selects on.
 */
export function renderNetworkPolicies(model: NetworkModel): V1NetworkPolicy[] {
  const out: V1NetworkPolicy[] = [];
  for (const g of [...model.groups].sort((a, b) => a.id.localeCompare(b.id))) {
    const rendered = (direction: SecurityRule['direction']): { peers: V1NetworkPolicyPeer[]; ports: V1NetworkPolicyPort[] }[] =>
      g.rules
        .filter((r) => r.direction === direction)
        .map((r) => ({ peers: renderPeers(r.peer, model), ports: ports(r) }))
        .filter((e) => e.peers.length > 0);
    // `_from`: the client's name for `from` (its serializer drops a plain `from`, which would mean "from everyone").
    const ingress: V1NetworkPolicyIngressRule[] = rendered('in').map((e) => ({ _from: e.peers, ports: e.ports }));
    const egress: V1NetworkPolicyEgressRule[] = rendered('out').map((e) => ({ to: e.peers, ports: e.ports }));
    const restrictsEgress = g.rules.some((r) => r.direction === 'out');
    for (const [namespace, names] of byNamespace(g.members)) {
      out.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name: securityGroupPolicyName(g.id),
          namespace,
          labels: labels(model.vdcId, 'security-group', g.id),
          annotations: { 'edgeport.io/security-group-name': g.name },
        },
        spec: {
          podSelector: podsOf(names),
          policyTypes: restrictsEgress ? ['Ingress', 'Egress'] : ['Ingress'],
          ingress,
          ...(restrictsEgress ? { egress } : {}),
        },
      });
    }
  }
  for (const d of [...model.defaults].sort((a, b) => a.namespace.localeCompare(b.namespace))) {
    if (d.policy !== 'deny-other-spaces') continue;
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: SPACE_DEFAULT_POLICY_NAME, namespace: d.namespace, labels: labels(model.vdcId, 'space-default') },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: {} }] }] },
    });
  }
  return out;
}

const key = (o: KubernetesObject): string => `${o.metadata?.namespace}/${o.metadata?.name}`;

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
}

/**
 * The NetworkPolicies of the VDC this feature rendered earlier and `desired` no longer contains: labelled
 * with the VDC and an owner label, and applied by Edgeport's field manager. Anything else (policies
 * someone wrote by hand, or a look-alike labelled by hand) is never returned, so never deleted.
 */
export async function stalePolicies(kube: KubeClients, vdcId: string, desired: readonly KubernetesObject[]): Promise<KubernetesObject[]> {
  const wanted = new Set(desired.map(key));
  const labelSelector = `${NETWORK_LABELS.vdc}=${vdcId},${NETWORK_LABELS.owner},${NETWORK_LABELS.managedBy}=edgeport`;
  let items: KubernetesObject[];
  try {
    items = (await kube.objects.list('networking.k8s.io/v1', 'NetworkPolicy', undefined, undefined, undefined, undefined, undefined, labelSelector)).items;
  } catch (err) {
    return mapKubeError(err, `list NetworkPolicies of VDC ${vdcId}`);
  }
  return items
    .filter(
      (o) =>
        !wanted.has(key(o)) && ((o.metadata?.managedFields ?? []) as ManagedFieldsEntry[]).some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply'),
    )
    .map((o) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? '' },
    }))
    .sort((a, b) => key(a).localeCompare(key(b)));
}

/** The live NetworkPolicies this feature rendered for the VDC, optionally only one group's. */
export async function livePolicies(kube: KubeClients, vdcId: string, groupId?: string): Promise<V1NetworkPolicy[]> {
  const labelSelector = `${NETWORK_LABELS.vdc}=${vdcId},${groupId ? `${NETWORK_LABELS.group}=${groupId}` : NETWORK_LABELS.owner},${NETWORK_LABELS.managedBy}=edgeport`;
  try {
    const { items } = await kube.objects.list<V1NetworkPolicy>(
      'networking.k8s.io/v1',
      'NetworkPolicy',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    return [...items].sort((a, b) => key(a).localeCompare(key(b)));
  } catch (err) {
    if (isNotFound(err)) return [];
    return mapKubeError(err, `list NetworkPolicies of VDC ${vdcId}`);
  }
}
