import { ROLES, type Role } from '../common/roles.ts';
import type { VdcSpace } from '../common/tickets.ts';
import type { TicketDecision } from './types.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const SPACE_POLICY_VERSION = 'space/2026-11-25.1';

/** Most application spaces one VDC may hold (each gets the VDC's full quota as its ResourceQuota). */
export const MAX_SPACES_PER_VDC = 20;

export interface SpacePolicyInput {
  name: string;
  /** The spaces recorded on the VDC now. */
  spaces: readonly Pick<VdcSpace, 'name' | 'status'>[];
  /** Roles the requester can act as in approval chains of this VDC. */
  requesterRoles: readonly Role[];
}

const vdcAdminStep = { step: 0, role: ROLES.vdcAdmin, label: 'VDC admin' };

/**
 * Decides how an application space is created. Pure.
 * - the name is already a space of the VDC, or the VDC holds the maximum → deny (naming the field);
 * - the requester is a VDC admin of the VDC → auto-approve: the chain would ask a VDC admin, and they are
 *   one (without this, a VDC with a single admin could never get a space, as nobody approves their own ticket);
 * - otherwise → one VDC admin approves.
 */
export function decideSpaceCreate({ name, spaces, requesterRoles }: SpacePolicyInput): TicketDecision {
  if (spaces.some((s) => s.name === name)) {
    return { version: SPACE_POLICY_VERSION, outcome: 'deny', reason: `application space ${name} already exists in this VDC`, field: 'name' };
  }
  if (spaces.length >= MAX_SPACES_PER_VDC) {
    return { version: SPACE_POLICY_VERSION, outcome: 'deny', reason: `a VDC holds at most ${MAX_SPACES_PER_VDC} application spaces`, field: 'name' };
  }
  if (requesterRoles.includes(ROLES.vdcAdmin)) {
    return { version: SPACE_POLICY_VERSION, outcome: 'auto-approve', reason: 'requested by a VDC admin of the VDC', chain: [] };
  }
  return { version: SPACE_POLICY_VERSION, outcome: 'approval', reason: 'new application space', chain: [vdcAdminStep] };
}

/**
 * Decides how an application space is deleted. Pure.
 * - no such space on the VDC → deny (naming the field);
 * - otherwise a VDC admin approves, always: deletion cannot be undone, so even a VDC admin's own request
 *   needs a second VDC admin (nobody approves their own ticket).
 */
export function decideSpaceDelete({ name, spaces }: SpacePolicyInput): TicketDecision {
  if (!spaces.some((s) => s.name === name)) {
    return { version: SPACE_POLICY_VERSION, outcome: 'deny', reason: `no application space ${name} in this VDC`, field: 'name' };
  }
  return { version: SPACE_POLICY_VERSION, outcome: 'approval', reason: 'deleting an application space cannot be undone', chain: [vdcAdminStep] };
}
