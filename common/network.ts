import { z } from 'zod';
import { displayText } from './display-text.ts';

/**
 * Security groups (安全组) and the default network policy of application spaces: the contract between the
 * api, the network activities (which render them as Kubernetes NetworkPolicies) and the portal.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (max = 63) => z.string().min(1).max(max).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');

/** Ids are `sg-` and 10 hex digits, made by the api. */
export const securityGroupIdSchema = z.string().regex(/^sg-[0-9a-f]{10}$/, 'must be a security group id (sg-…)');

const ipv4 = (s: string): number[] | undefined => {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number);
};

/**
 * Whether `s` is an IPv4 CIDR with its host bits zero (`10.0.0.0/8`, not `10.1.2.3/8`) or an IPv6 CIDR.
 * The host-bit rule keeps what the tenant typed and what the policy means the same.
 */
export function cidrProblem(s: string): string | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return 'must be a CIDR such as 10.0.0.0/8';
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (addr.includes(':')) return z.cidrv6().safeParse(s).success ? undefined : 'must be a CIDR such as 10.0.0.0/8 or fd00::/8';
  const octets = ipv4(addr);
  if (!octets || !/^(0|[1-9][0-9]?)$/.test(bits) || Number(bits) > 32) return 'must be a CIDR such as 10.0.0.0/8';
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - Number(bits));
  if (value % hostBits !== 0)
    return `host bits must be zero (e.g. ${addr
      .split('.')
      .map((_, i) => (i < Math.floor(Number(bits) / 8) ? octets[i] : 0))
      .join('.')}/${bits})`;
  return undefined;
}

export const cidrSchema = z
  .string()
  .max(64)
  .superRefine((s, ctx) => {
    const problem = cidrProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A workload of the VDC by where it runs: the namespace (its space's, or the VDC's first) and its name. */
export const WorkloadRefSchema = z.strictObject({ namespace: dnsLabel(), name: dnsLabel() });
export type WorkloadRef = z.infer<typeof WorkloadRefSchema>;

/** What a rule allows traffic from (in) or to (out). */
export const PeerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('group'), group: securityGroupIdSchema }),
  z.strictObject({ kind: z.literal('workload'), namespace: dnsLabel(), name: dnsLabel() }),
  z.strictObject({ kind: z.literal('space'), space: dnsLabel() }),
  z.strictObject({ kind: z.literal('cidr'), cidr: cidrSchema }),
]);
export type Peer = z.infer<typeof PeerSchema>;

const port = z.number().int().min(1, 'must be a port 1-65535').max(65535, 'must be a port 1-65535');

/** One allow rule; `endPort` makes `port` the start of a range. */
export const SecurityRuleSchema = z
  .strictObject({
    direction: z.enum(['in', 'out']),
    protocol: z.enum(['TCP', 'UDP']),
    port,
    endPort: port.optional(),
    peer: PeerSchema,
    description: displayText({ max: 200, min: 0 }).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.endPort !== undefined && r.endPort < r.port)
      ctx.addIssue({ code: 'custom', path: ['endPort'], message: `must not be below port ${r.port} (a range runs from port to endPort)` });
  });
export type SecurityRule = z.infer<typeof SecurityRuleSchema>;

export const SECURITY_GROUP_LIMITS = { rules: 64, members: 200, batch: 100 } as const;

export const CreateSecurityGroupSchema = z.strictObject({
  name: dnsLabel(40),
  description: displayText({ max: 500, min: 0, multiline: true }).optional(),
  rules: z.array(SecurityRuleSchema).max(SECURITY_GROUP_LIMITS.rules).default([]),
});
export type CreateSecurityGroup = z.infer<typeof CreateSecurityGroupSchema>;

/** Replaces the group's description and rules (the name is fixed: policies are named after the id). */
export const UpdateSecurityGroupSchema = z.strictObject({
  description: displayText({ max: 500, min: 0, multiline: true }).optional(),
  rules: z.array(SecurityRuleSchema).max(SECURITY_GROUP_LIMITS.rules),
});
export type UpdateSecurityGroup = z.infer<typeof UpdateSecurityGroupSchema>;

/** Adds and removes member workloads in one change. */
export const ChangeMembersSchema = z
  .strictObject({
    add: z.array(WorkloadRefSchema).max(SECURITY_GROUP_LIMITS.batch).default([]),
    remove: z.array(WorkloadRefSchema).max(SECURITY_GROUP_LIMITS.batch).default([]),
  })
  .refine((b) => b.add.length + b.remove.length > 0, { message: 'add or remove at least one workload', path: ['add'] });
export type ChangeMembers = z.infer<typeof ChangeMembersSchema>;

export interface SecurityGroup {
  id: string;
  vdcId: string;
  name: string;
  description?: string;
  rules: SecurityRule[];
  members: WorkloadRef[];
  /** Bumped by every change; a change made against an older revision is refused (409). */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Default ingress policy of an application space: `allow-all` is Kubernetes' own default (no policy is
 * rendered: a policy allowing everything would cancel every group's restrictions, NetworkPolicies being
 * additive); `deny-other-spaces` renders one NetworkPolicy admitting traffic from the space's own pods only.
 */
export const SPACE_NETWORK_DEFAULTS = ['allow-all', 'deny-other-spaces'] as const;
export type SpaceNetworkDefault = (typeof SPACE_NETWORK_DEFAULTS)[number];
export const PutSpaceNetworkDefaultSchema = z.strictObject({ policy: z.enum(SPACE_NETWORK_DEFAULTS) });

export interface SpaceNetworkView {
  space: string;
  namespace: string;
  policy: SpaceNetworkDefault;
}

/** Labels and names of the NetworkPolicies Edgeport renders; pruning goes by these labels only. */
export const NETWORK_LABELS = {
  vdc: 'edgeport.io/vdc',
  /** `security-group` or `space-default`: present only on policies this feature renders. */
  owner: 'edgeport.io/network-owner',
  group: 'edgeport.io/security-group',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;
export const SPACE_DEFAULT_POLICY_NAME = 'edgeport-space-default';
export const securityGroupPolicyName = (groupId: string): string => `edgeport-${groupId}`;

/** A rendered NetworkPolicy as read back from the kube-apiserver (what the portal shows). */
export interface RenderedPolicyView {
  namespace: string;
  name: string;
  /** The object without server-managed metadata, as YAML. */
  yaml: string;
}

/** Result of one synchronisation of a VDC's NetworkPolicies with its groups and space defaults. */
export interface NetworkSyncResult {
  applied: string[];
  deleted: string[];
}

/** Non-retryable failure types of the network activities. */
export const NETWORK_ERRORS = {
  vdcNotFound: 'NetworkVdcNotFound',
} as const;

/** Workflow id of one short network workflow: `network-<vdc>-<purpose>-<random>`. */
export const networkWorkflowId = (vdcId: string, purpose: 'sync' | 'read', random: string): string => `network-${vdcId}-${purpose}-${random}`;
