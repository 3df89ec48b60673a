import { ROLES, type Role } from '../common/roles.ts';
import type { NodeTaint } from '../common/tickets.ts';
import type { TicketDecision } from './types.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const NODE_JOIN_POLICY_VERSION = 'node-join/2026-11-25.1';

/** Token lifetimes above this are called out in the decision reason (a long-lived credential is out there). */
export const LONG_TOKEN_MINUTES = 240;

export interface NodeJoinPolicyInput {
  pool: string;
  nodeName: string;
  taints: readonly NodeTaint[];
  tokenTtlMinutes: number;
  /** The pools the VDC lives on (primary first), when known. */
  vdcPools?: readonly string[];
  /** Roles the requester can act as in approval chains of this VDC. */
  requesterRoles: readonly Role[];
}

const opsStep = { step: 0, role: ROLES.opsAdmin, label: 'Operations admin' };

/**
 * Decides how an edge node joins a pool for a VDC. Pure.
 * - the pool is not the VDC's pool → deny (`pool`): a VDC's nodes live where its namespaces are;
 * - two taints with the same key and effect → deny (`taints`): the API server would refuse the node spec;
 * - otherwise → one operations admin approves, always (a node join hands out a cluster credential, and
 *   nobody approves their own ticket, so an ops admin's request needs a second one). The reason names a
 *   token lifetime above {@link LONG_TOKEN_MINUTES}.
 */
export function decideNodeJoin(input: NodeJoinPolicyInput): TicketDecision {
  if (input.vdcPools !== undefined && !input.vdcPools.includes(input.pool)) {
    return {
      version: NODE_JOIN_POLICY_VERSION,
      outcome: 'deny',
      reason: `the VDC lives in resource pool${input.vdcPools.length === 1 ? '' : 's'} ${input.vdcPools.join(', ')}, not ${input.pool}`,
      field: 'pool',
    };
  }
  const seen = new Set<string>();
  for (const t of input.taints) {
    const k = `${t.key}:${t.effect}`;
    if (seen.has(k))
      return { version: NODE_JOIN_POLICY_VERSION, outcome: 'deny', reason: `taint ${t.key} with effect ${t.effect} is given twice`, field: 'taints' };
    seen.add(k);
  }
  const long = input.tokenTtlMinutes > LONG_TOKEN_MINUTES ? `; long-lived join token (${input.tokenTtlMinutes} min)` : '';
  return { version: NODE_JOIN_POLICY_VERSION, outcome: 'approval', reason: `join node ${input.nodeName} to pool ${input.pool}${long}`, chain: [opsStep] };
}
