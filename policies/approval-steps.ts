import type { Role } from '../common/roles.ts';
import type { ApprovalRecord, ApprovalStep } from '../common/tickets.ts';

/**
 * Who may decide which approval step: one implementation for the API (inbox, `canDecide`, delegations) and
 * the workflow's `decide` validator. Pure and deterministic (no clock, no I/O, no Node builtins), so
 * workflow code may import it.
 */

/** Roles that may decide step `i` now: after escalation the escalated role, else the chain step's roles (its `role` when it lists none). */
export function eligibleRoles(chain: readonly ApprovalStep[], approvals: readonly ApprovalRecord[], i: number): Role[] {
  const step = chain[i];
  return approvals[i]?.roles ?? step?.roles ?? (step ? [step.role] : []);
}

/** Roles the current step still needs: its eligible roles minus those an all-of step already has a vote from. None when no step is current. */
export function neededRoles(policy: { chain: readonly ApprovalStep[] }, approvals: readonly ApprovalRecord[], currentStep: number | null): Role[] {
  if (currentStep === null) return [];
  const voted = new Set((approvals[currentStep]?.votes ?? []).map((v) => v.role));
  return eligibleRoles(policy.chain, approvals, currentStep).filter((r) => !voted.has(r));
}

/** Subjects who decided something on the ticket, directly or as the approver a delegate acted for. */
export function decidersOf(approvals: readonly ApprovalRecord[]): string[] {
  return approvals.flatMap((a) => [
    ...(a.actor ? [a.actor.sub] : []),
    ...(a.onBehalfOf ? [a.onBehalfOf.sub] : []),
    ...(a.votes ?? []).flatMap((v) => [v.actor.sub, ...(v.onBehalfOf ? [v.onBehalfOf.sub] : [])]),
  ]);
}
