import { ROLES } from '../common/roles.ts';
import type { ApprovalStep, PolicySummary, Quota, QuotaResource } from '../common/tickets.ts';
import { approvalStep } from './approval-chain.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const QUOTA_POLICY_VERSION = 'quota-change/2026-11-25.1';

/** Platform-wide hard ceilings per VDC; a request above one is denied outright. */
export const QUOTA_CEILING: Required<Quota> = { cpu: 512, memoryGi: 2048, pods: 5000 };

/**
 * An increase is "large" (needs an operations admin as well) when any resource grows by more than
 * this factor of its current value, or from nothing to more than the absolute amount below.
 */
export const LARGE_INCREASE_FACTOR = 1.5;
export const LARGE_ABSOLUTE: Required<Quota> = { cpu: 16, memoryGi: 64, pods: 200 };

/**
 * A "very large" request takes a VDC above this share of the platform ceiling on some resource; its second
 * step then needs both an operations admin and a domain admin (all-of).
 */
export const VERY_LARGE_SHARE = 0.5;

export type QuotaDecision =
  | PolicySummary
  | { version: string; outcome: 'deny'; reason: string; field: `quota.${QuotaResource}` };

export interface QuotaPolicyInput {
  current: Quota;
  requested: Quota;
}

const isLarge = (resource: QuotaResource, from: number | undefined, to: number): boolean =>
  from === undefined || from === 0 ? to > LARGE_ABSOLUTE[resource] : to > from * LARGE_INCREASE_FACTOR;

/**
 * Decides how a quota change is approved. Pure: the current quota comes from the VDC record the API holds.
 * - any resource above the platform ceiling → deny (naming the field);
 * - only decreases or no change → auto-approve (giving back capacity needs nobody's consent);
 * - increases → VDC admin; a large increase adds an operations admin as second step; a very large one
 *   (above half the ceiling) makes that step all-of operations admin and domain admin.
 * Every step has an SLA (a day per level, reminder 4 h before) escalating VDC admin → domain admin → ops admin.
 * Changes since 2026-11-24.1: SLAs and escalation; the all-of step for very large requests.
 */
export function decideQuotaChange({ current, requested }: QuotaPolicyInput): QuotaDecision {
  const entries = Object.entries(requested).filter((e): e is [QuotaResource, number] => e[1] !== undefined);
  for (const [resource, to] of entries) {
    if (to > QUOTA_CEILING[resource]) {
      return {
        version: QUOTA_POLICY_VERSION,
        outcome: 'deny',
        reason: `${resource} ${to} exceeds the platform ceiling of ${QUOTA_CEILING[resource]} per VDC`,
        field: `quota.${resource}`,
      };
    }
  }
  const increases = entries.filter(([resource, to]) => to > (current[resource] ?? 0));
  if (increases.length === 0) {
    return { version: QUOTA_POLICY_VERSION, outcome: 'auto-approve', reason: 'no resource increases', chain: [] };
  }
  const chain: ApprovalStep[] = [approvalStep(0, [ROLES.vdcAdmin])];
  const large = increases.filter(([resource, to]) => isLarge(resource, current[resource], to)).map(([r]) => r);
  const veryLarge = increases.filter(([resource, to]) => to > QUOTA_CEILING[resource] * VERY_LARGE_SHARE).map(([r]) => r);
  if (veryLarge.length > 0) {
    chain.push(approvalStep(1, [ROLES.opsAdmin, ROLES.domainAdmin], { mode: 'all-of' }));
    return { version: QUOTA_POLICY_VERSION, outcome: 'approval', reason: `very large increase of ${veryLarge.join(', ')}`, chain };
  }
  if (large.length > 0) {
    chain.push(approvalStep(1, [ROLES.opsAdmin]));
    return { version: QUOTA_POLICY_VERSION, outcome: 'approval', reason: `large increase of ${large.join(', ')}`, chain };
  }
  return { version: QUOTA_POLICY_VERSION, outcome: 'approval', reason: `increase of ${increases.map(([r]) => r).join(', ')}`, chain };
}
