import { ROLES } from '../common/roles.ts';
import type { ApprovalStep, PolicySummary, Quota, QuotaResource } from '../common/tickets.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const QUOTA_POLICY_VERSION = 'quota-change/2026-11-24.1';

/** Platform-wide hard ceilings per VDC; a request above one is denied outright. */
export const QUOTA_CEILING: Required<Quota> = { cpu: 512, memoryGi: 2048, pods: 5000 };

/**
 * An increase is "large" (needs an operations admin as well) when any resource grows by more than
 * this factor of its current value, or from nothing to more than the absolute amount below.
 */
export const LARGE_INCREASE_FACTOR = 1.5;
export const LARGE_ABSOLUTE: Required<Quota> = { cpu: 16, memoryGi: 64, pods: 200 };

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
 * - increases → VDC admin; a large increase adds an operations admin as second step.
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
  const chain: ApprovalStep[] = [{ step: 0, role: ROLES.vdcAdmin, label: 'VDC admin' }];
  const large = increases.filter(([resource, to]) => isLarge(resource, current[resource], to)).map(([r]) => r);
  if (large.length > 0) {
    chain.push({ step: 1, role: ROLES.opsAdmin, label: 'Operations admin' });
    return { version: QUOTA_POLICY_VERSION, outcome: 'approval', reason: `large increase of ${large.join(', ')}`, chain };
  }
  return { version: QUOTA_POLICY_VERSION, outcome: 'approval', reason: `increase of ${increases.map(([r]) => r).join(', ')}`, chain };
}
