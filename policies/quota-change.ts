import { toMicros } from '../common/billing.ts';
import { withinBudget, type MonthlyBudget, type ProjectedCost } from '../common/budget.ts';
import { ROLES } from '../common/roles.ts';
import type { ApprovalStep, PolicySummary, Quota, QuotaResource } from '../common/tickets.ts';
import { approvalStep } from './approval-chain.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const QUOTA_POLICY_VERSION = 'quota-change/2026-12-08.1';

/** Platform-wide hard ceilings per VDC; a request above one is denied outright. */
export const QUOTA_CEILING: Required<Quota> = { cpu: 512, memoryGi: 2048, pods: 5000, storageGi: 65_536 };

/**
 * An increase is "large" (needs an operations admin as well) when any resource grows by more than
 * this factor of its current value, or from nothing to more than the absolute amount below.
 */
export const LARGE_INCREASE_FACTOR = 1.5;
export const LARGE_ABSOLUTE: Required<Quota> = { cpu: 16, memoryGi: 64, pods: 200, storageGi: 1024 };

/**
 * A "very large" request takes a VDC above this share of the platform ceiling on some resource; its second
 * step then needs both an operations admin and a domain admin (all-of).
 */
export const VERY_LARGE_SHARE = 0.5;

export type QuotaDecision = PolicySummary | { version: string; outcome: 'deny'; reason: string; field: `quota.${QuotaResource}` };

/**
 * An increase of every resource to at most this factor of its current value is "small": with the VDC
 * still under its monthly budget afterwards, nobody needs to approve it.
 */
export const AUTO_APPROVE_FACTOR_PERCENT = 110;

export interface QuotaPolicyInput {
  current: Quota;
  requested: Quota;
  /**
   * The VDC's monthly budget and the monthly cost of its quota after the change under the price book in
   * force (priced by the API at submit time). Absent, or either part absent: no auto-approval on budget.
   */
  budget?: { monthlyBudget?: MonthlyBudget; projected?: ProjectedCost };
}

/** Why a projected cost does not pass the budget rule (for the decision reason). */
function budgetMiss(projected: ProjectedCost, budget: MonthlyBudget, cost: string, limit: string): string {
  if (projected.priceBookVersion === null) return 'no price book in force to check the budget';
  if (projected.currency !== budget.currency) return `price book v${projected.priceBookVersion} is in ${projected.currency}, the budget in ${budget.currency}`;
  if (projected.unpriced.length > 0) return `price book v${projected.priceBookVersion} has no price for ${projected.unpriced.join(', ')}`;
  return `${cost} exceeds the budget of ${limit} (price book v${projected.priceBookVersion})`;
}

/** `to` is at most 110% of a non-zero `from`; exact (integer millionths, no floating point). */
const isSmall = (from: number | undefined, to: number): boolean =>
  from !== undefined && from > 0 && toMicros(to) * 100n <= toMicros(from) * BigInt(AUTO_APPROVE_FACTOR_PERCENT);

const isLarge = (resource: QuotaResource, from: number | undefined, to: number): boolean =>
  from === undefined || from === 0 ? to > LARGE_ABSOLUTE[resource] : to > from * LARGE_INCREASE_FACTOR;

/**
 * Decides how a quota change is approved. Pure: the current quota comes from the VDC record the API holds.
 * - any resource above the platform ceiling → deny (naming the field);
 * - only decreases or no change → auto-approve (giving back capacity needs nobody's consent);
 * - every increase within 10% of a non-zero current value, and the VDC's quota after the change costs at
 *   most its monthly budget under the price book in force (same currency, every resource priced) →
 *   auto-approve, the reason naming the increases, the cost, the budget and the price-book version;
 * - increases → VDC admin; a large increase adds an operations admin as second step; a very large one
 *   (above half the ceiling) makes that step all-of operations admin and domain admin.
 * Every step has an SLA (a day per level, reminder 4 h before) escalating VDC admin → domain admin → ops admin.
 * Changes since 2026-11-24.1: SLAs and escalation; the all-of step for very large requests.
 * Changes since 2026-11-25.1: auto-approval of small increases under the VDC's monthly budget.
 * Changes since 2026-11-25.2: storage is quota (`storageGi`, ceiling 64 TiB per VDC, large above 1 TiB from nothing).
 */
export function decideQuotaChange({ current, requested, budget }: QuotaPolicyInput): QuotaDecision {
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
  const small = increases.every(([resource, to]) => isSmall(current[resource], to));
  const { monthlyBudget, projected } = budget ?? {};
  let budgetNote = '';
  if (small && monthlyBudget && projected) {
    const cost = `${projected.monthly} ${projected.currency ?? monthlyBudget.currency}/month`;
    const limit = `${monthlyBudget.amount} ${monthlyBudget.currency}`;
    if (withinBudget(projected, monthlyBudget)) {
      const what = increases.map(([r, to]) => `${r} ${current[r]} → ${to}`).join(', ');
      return {
        version: QUOTA_POLICY_VERSION,
        outcome: 'auto-approve',
        reason: `increase within 10% (${what}) and under budget: ${cost} ≤ ${limit} (price book v${projected.priceBookVersion})`,
        chain: [],
      };
    }
    budgetNote = `; not auto-approved: ${budgetMiss(projected, monthlyBudget, cost, limit)}`;
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
  return { version: QUOTA_POLICY_VERSION, outcome: 'approval', reason: `increase of ${increases.map(([r]) => r).join(', ')}${budgetNote}`, chain };
}
