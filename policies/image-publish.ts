import { ROLES, type Role } from '../common/roles.ts';
import type { ApprovalStep } from '../common/tickets.ts';
import { approvalStep } from './approval-chain.ts';
import type { TicketDecision } from './types.ts';

/** Bumped whenever a rule below changes; stored on every ticket. */
export const IMAGE_PUBLISH_POLICY_VERSION = 'image-publish/2026-11-25.1';

export interface ImagePublishPolicyInput {
  visibility: 'private' | 'public';
  /** Set when the requester asks to promote despite High/Critical findings. */
  scanOverride: boolean;
  /** Roles the requester can act as on the VDC (ops admins hold `ops-admin`). */
  requesterRoles: readonly Role[];
}

/**
 * Decides how an image publish is approved. Pure.
 * - private: the VDC admin approves;
 * - public: the VDC admin, then an operations admin (public images reach every tenant);
 * - a scan override may only be asked for by an operations admin (the override is their act, with its reason
 *   on the ticket); the chain stays as above, so another person still approves.
 * Whether the scan blocks is decided at preflight (the scan may not exist at submit time).
 */
export function decideImagePublish(input: ImagePublishPolicyInput): TicketDecision {
  if (input.scanOverride && !input.requesterRoles.includes(ROLES.opsAdmin)) {
    return {
      version: IMAGE_PUBLISH_POLICY_VERSION,
      outcome: 'deny',
      reason: 'only an operations admin may override a blocking scan result',
      field: 'scanOverride',
    };
  }
  const chain: ApprovalStep[] = [approvalStep(0, [ROLES.vdcAdmin])];
  if (input.visibility === 'public') chain.push(approvalStep(1, [ROLES.opsAdmin]));
  const reason = `${input.visibility === 'public' ? 'public image: VDC admin and operations admin' : 'private image: VDC admin'}${input.scanOverride ? '; scan override requested by an operations admin' : ''}`;
  return { version: IMAGE_PUBLISH_POLICY_VERSION, outcome: 'approval', reason, chain };
}
