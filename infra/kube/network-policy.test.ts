import { describe, expect, it } from 'vitest';
import type { SecurityRule } from '../../common/network.ts';
import { renderNetworkPolicies, type NetworkModel } from './network-policy.ts';

const NAME = 'app.kubernetes.io/name';
const ns = (n: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': n } });
const labels = (group?: string) => ({
  'edgeport.io/vdc': 'v1',
  'edgeport.io/network-owner': group ? 'security-group' : 'space-default',
  ...(group ? { 'edgeport.io/security-group': group } : {}),
  'app.kubernetes.io/managed-by': 'edgeport',
});
const tcp = (port: number, peer: SecurityRule['peer'], extra: Partial<SecurityRule> = {}): SecurityRule => ({
  direction: 'in',
  protocol: 'TCP',
  port,
  peer,
  ...extra,
});
const model = (m: Partial<NetworkModel>): NetworkModel => ({ vdcId: 'v1', groups: [], spaces: [{ name: 'web', namespace: 'v1-web' }], defaults: [], ...m });

const web = {
  id: 'sg-00000000aa',
  name: 'web',
  rules: [] as SecurityRule[],
  members: [
    { namespace: 'vdc-v1', name: 'front' },
    { namespace: 'vdc-v1', name: 'api' },
  ],
};
const db = {
  id: 'sg-00000000bb',
  name: 'db',
  rules: [] as SecurityRule[],
  members: [
    { namespace: 'vdc-v1', name: 'pg' },
    { namespace: 'v1-web', name: 'cache' },
  ],
};

describe('renderNetworkPolicies', () => {
  it.each([
    {
      title: 'two members of one namespace: one policy selecting both, ingress from a CIDR',
      m: model({ groups: [{ ...web, rules: [tcp(80, { kind: 'cidr', cidr: '10.0.0.0/8' })] }] }),
      want: [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: {
            name: 'edgeport-sg-00000000aa',
            namespace: 'vdc-v1',
            labels: labels('sg-00000000aa'),
            annotations: { 'edgeport.io/security-group-name': 'web' },
          },
          spec: {
            podSelector: { matchExpressions: [{ key: NAME, operator: 'In', values: ['api', 'front'] }] },
            policyTypes: ['Ingress'],
            ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 80 }] }],
          },
        },
      ],
    },
    {
      title: 'a group without members renders nothing',
      m: model({ groups: [{ ...web, members: [], rules: [tcp(80, { kind: 'cidr', cidr: '10.0.0.0/8' })] }] }),
      want: [],
    },
  ])('$title', ({ m, want }) => {
    expect(renderNetworkPolicies(m)).toEqual(want);
  });

  it.each([
    {
      title: 'group peer: one peer per namespace of its members',
      peer: { kind: 'group', group: 'sg-00000000bb' } as const,
      from: [
        { namespaceSelector: ns('v1-web'), podSelector: { matchLabels: { [NAME]: 'cache' } } },
        { namespaceSelector: ns('vdc-v1'), podSelector: { matchLabels: { [NAME]: 'pg' } } },
      ],
    },
    {
      title: 'workload peer: its namespace and pod labels',
      peer: { kind: 'workload', namespace: 'v1-web', name: 'cache' } as const,
      from: [{ namespaceSelector: ns('v1-web'), podSelector: { matchLabels: { [NAME]: 'cache' } } }],
    },
    { title: 'space peer: its namespace', peer: { kind: 'space', space: 'web' } as const, from: [{ namespaceSelector: ns('v1-web') }] },
    { title: 'space peer of a space no longer there: rule left out (never "from everyone")', peer: { kind: 'space', space: 'gone' } as const, from: undefined },
    { title: 'group peer of a group without members: rule left out', peer: { kind: 'group', group: 'sg-00000000cc' } as const, from: undefined },
    { title: 'CIDR peer', peer: { kind: 'cidr', cidr: 'fd00::/8' } as const, from: [{ ipBlock: { cidr: 'fd00::/8' } }] },
  ])('$title', ({ peer, from }) => {
    const empty = { id: 'sg-00000000cc', name: 'empty', rules: [], members: [] };
    const [p] = renderNetworkPolicies(model({ groups: [{ ...web, rules: [tcp(5432, peer)] }, db, empty] }));
    expect(p?.metadata?.name).toBe('edgeport-sg-00000000aa');
    expect(p?.spec?.ingress).toEqual(from ? [{ _from: from, ports: [{ protocol: 'TCP', port: 5432 }] }] : []);
  });

  it('members in two namespaces: one policy per namespace, each selecting its own members', () => {
    const out = renderNetworkPolicies(model({ groups: [db] }));
    expect(out.map((p) => [p.metadata?.namespace, p.spec?.podSelector])).toEqual([
      ['v1-web', { matchLabels: { [NAME]: 'cache' } }],
      ['vdc-v1', { matchLabels: { [NAME]: 'pg' } }],
    ]);
  });

  it('an out rule restricts egress too; a port range becomes port + endPort', () => {
    const [p] = renderNetworkPolicies(
      model({
        groups: [
          {
            ...web,
            rules: [
              tcp(80, { kind: 'cidr', cidr: '0.0.0.0/0' }),
              { direction: 'out', protocol: 'UDP', port: 5000, endPort: 5010, peer: { kind: 'cidr', cidr: '192.168.0.0/16' } },
            ],
          },
        ],
      }),
    );
    expect(p?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(p?.spec?.egress).toEqual([{ to: [{ ipBlock: { cidr: '192.168.0.0/16' } }], ports: [{ protocol: 'UDP', port: 5000, endPort: 5010 }] }]);
  });

  it('space defaults: deny-other-spaces renders its own policy; allow-all renders none', () => {
    const out = renderNetworkPolicies(
      model({
        defaults: [
          { namespace: 'v1-web', policy: 'deny-other-spaces' },
          { namespace: 'v1-api', policy: 'allow-all' },
        ],
      }),
    );
    expect(out).toEqual([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'edgeport-space-default', namespace: 'v1-web', labels: labels() },
        spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: {} }] }] },
      },
    ]);
  });

  it('is deterministic whatever order groups and members come in', () => {
    const a = renderNetworkPolicies(model({ groups: [web, db] }));
    const b = renderNetworkPolicies(model({ groups: [db, { ...web, members: [...web.members].reverse() }] }));
    expect(b).toEqual(a);
  });
});
