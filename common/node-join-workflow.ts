import type { NodeJoinPreview, NodeTaint } from './tickets.ts';
import type { TicketWorkflowInput, TicketWorkflowResult } from './ticket-workflow.ts';

/** Workflow type name of node-join tickets, as the API starts it. */
export const NODE_JOIN_WORKFLOW = 'nodeJoinWorkflow';

/** Labels and annotations Edgeport puts on a joining or joined node. */
export const NODE_JOIN_LABELS = {
  vdc: 'edgeport.io/vdc',
  pool: 'edgeport.io/pool',
  /** Set by the join command (`--node-labels`): the id (public half) of the bootstrap token the node joined with. */
  joinToken: 'edgeport.io/join-token',
  ticket: 'edgeport.io/ticket',
} as const;

/**
 * Extra group of a join token: binds it to one node name (`system:bootstrappers:edgeport:<node>`). Bootstrap
 * token groups allow only `[a-z0-9:-]`, so the dots of a node name become `:`, which a DNS name never holds.
 */
export const joinTokenGroup = (nodeName: string): string => `system:bootstrappers:edgeport:${nodeName.replaceAll('.', ':')}`;

/**
 * The group every Edgeport join token carries besides {@link joinTokenGroup}: bound to the built-in
 * `system:node-bootstrapper` ClusterRole (create and read CertificateSigningRequests) by the ClusterRoleBinding
 * {@link NODE_BOOTSTRAPPER_BINDING} (stack objects, Helm chart, deploy/pool-identity.yaml). It is never granted
 * `certificatesigningrequests/nodeclient`, so the built-in csrapproving controller leaves these CSRs alone and
 * Edgeport's worker decides them ({@link KUBELET_CLIENT_SIGNER}).
 */
export const NODE_JOIN_BOOTSTRAP_GROUP = 'system:bootstrappers:edgeport';
/** ClusterRoleBinding of {@link NODE_JOIN_BOOTSTRAP_GROUP} to `system:node-bootstrapper` on every pool. */
export const NODE_BOOTSTRAPPER_BINDING = 'edgeport-node-bootstrapper';
/** Signer of a kubelet's client certificate: the CSR a joining node's bootstrap identity creates. */
export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
/** The user a bootstrap token authenticates as. */
export const bootstrapUser = (tokenId: string): string => `system:bootstrap:${tokenId}`;

export interface NodeJoinSpec {
  pool: string;
  nodeName: string;
  arch?: string;
  /** Tenant labels; Edgeport's own labels are added by the activity. */
  labels: Record<string, string>;
  taints: NodeTaint[];
  tokenTtlMinutes: number;
}

export interface NodeJoinInput extends TicketWorkflowInput {
  node: NodeJoinSpec;
}

/** What the token activity returns: the token's public id and expiry, never its secret half. */
export interface IssuedJoinToken {
  tokenId: string;
  expiresAt: string;
}

/** One look at the cluster for the joining node. */
export type NodeJoinCheck =
  | { state: 'waiting' }
  | { state: 'registered'; ready: boolean; arch?: string }
  /** A node other than the requested one registered with this ticket's token. */
  | { state: 'misused'; nodes: string[] };

/**
 * One look with CSR review (workflows patched with `node-join-csr-review`): the token's pending
 * CertificateSigningRequests were approved (`approvedCsrs`) when bound to the ticket's node, denied otherwise
 * (then `misused`), and the node was looked for as in {@link NodeJoinCheck}.
 */
export type NodeJoinReview = NodeJoinCheck & { approvedCsrs?: string[] };

/** Result of recording a joined node; in history, so the ledger line can be rebuilt from it. */
export interface JoinedNodeRecord {
  vdcId: string;
  domainId: string;
  pool: string;
  nodeName: string;
  arch?: string;
  joinedAt: string;
}

export interface NodeJoinResult extends TicketWorkflowResult {
  tokenId?: string;
  steps?: string[];
}

export type { NodeJoinPreview };

/** Non-retryable failure types of the node-join activities (business refusals). */
/**
 * Preflight refusal: the requested node architecture (`arch`) is not one the resource pool runs. Kept out
 * of {@link NODE_JOIN_ERRORS} (whose values are in recorded activity options); thrown non-retryable.
 */
export const NODE_ARCH_MISMATCH = 'NodeArchMismatch';

export const NODE_JOIN_ERRORS = {
  /** Preflight: the pool does not exist or its last check was not `ready`. */
  poolNotReady: 'PoolNotReady',
  /** Preflight: a Node of that name is already registered in the pool. */
  nodeNameTaken: 'NodeNameTaken',
  /** The token's sealed record is missing or belongs to another node (should not happen). */
  tokenMissing: 'JoinTokenMissing',
  /** The worker has no credentials key, so the token cannot be sealed. */
  noCredentialsKey: 'NoCredentialsKey',
} as const;

/** What the requester sees of a join: derived from the token record, the joined-node record and the ticket. */
export const JOIN_STATES = ['not-issued', 'waiting', 'joined', 'expired', 'revoked'] as const;
export type JoinState = (typeof JOIN_STATES)[number];

/** `GET /api/tickets/:id/join-status`: a node-join ticket's token and node, never the token's secret. */
export interface JoinStatusView {
  ticketId: string;
  pool: string;
  nodeName: string;
  state: JoinState;
  /** Public half of the token, once issued. */
  tokenId?: string;
  expiresAt?: string;
  /** When and by whom the one-time join command was fetched. */
  fetched?: { at: string; by: { sub: string; name?: string } };
  revokedAt?: string;
  /** The join command can still be fetched by this caller (issued, not fetched, not revoked or expired). */
  commandAvailable: boolean;
  /** This caller may fetch the command (the requester or an approver of the VDC). */
  mayFetch: boolean;
  node?: { arch?: string; joinedAt: string };
}

/**
 * The state of a join, pure: `joined` once the node is recorded for this ticket (or the ticket completed),
 * else `not-issued` without a token, `expired` once its expiry passed (also when it was revoked for it),
 * `revoked` when revoked earlier (failed, misused, cancelled), else `waiting`.
 */
export function joinState(token: { expiresAt: Date; revokedAt?: Date } | null, joined: boolean, now: Date): JoinState {
  if (joined) return 'joined';
  if (!token) return 'not-issued';
  if (token.revokedAt) return token.revokedAt.getTime() >= token.expiresAt.getTime() ? 'expired' : 'revoked';
  return now.getTime() >= token.expiresAt.getTime() ? 'expired' : 'waiting';
}
