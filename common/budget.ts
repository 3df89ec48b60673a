import { z } from 'zod';
import {
  amountMinor,
  costPreview,
  formatMicros,
  formatMinor,
  monthMs,
  monthOf,
  PRICE_UNITS,
  toMicros,
  unitPriceOf,
  versionForMonth,
  type CostPreview,
  type PriceBookVersion,
  type PricedResource,
} from './billing.ts';
import { QUOTA_RESOURCES, type Quota } from './tickets.ts';

/**
 * A VDC's monthly budget: the most its quota may cost a month under the price book in force, in that
 * price book's currency. Set by an administrator of the VDC's domain (a VDC admin must not raise their own
 * ceiling); read by the quota policy, which auto-approves small increases that stay under it.
 */
export const MonthlyBudgetSchema = z.strictObject({
  amount: z.string().regex(/^(0|[1-9]\d{0,11})(\.\d{1,2})?$/, 'a non-negative amount with at most 2 decimals, e.g. "1200.00"'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY'),
});
export type MonthlyBudget = z.infer<typeof MonthlyBudgetSchema>;

/** Body of `PUT /api/vdcs/:id/budget`: the new budget, or `null` to remove it (no auto-approval on budget then). */
export const PutBudgetSchema = z.strictObject({ monthlyBudget: MonthlyBudgetSchema.nullable() });
export type PutBudget = z.infer<typeof PutBudgetSchema>;

/** The monthly cost of a VDC's whole quota after a change, as the budget rule sees it. */
export interface ProjectedCost {
  /** Monthly cost of the quota in force after the change, fixed 2 decimals. */
  monthly: string;
  currency: string | null;
  priceBookVersion: number | null;
  month: string;
  /** Resources of the quota without a price (a projection with any is not trusted against a budget). */
  unpriced: CostPreview['unpriced'];
}

/** The quota in force after `requested` replaces the resources it names. */
export function mergedQuota(current: Quota, requested: Quota): Quota {
  const out: Quota = { ...current };
  for (const r of QUOTA_RESOURCES) if (requested[r] !== undefined) out[r] = requested[r];
  return out;
}

/**
 * Monthly cost of holding the whole quota `current` updated by `requested` in `pool`, under the price book
 * in force for the month of `at`. Pure (price book and time are inputs), so the API can price a request at
 * submit time exactly as the policy tests do.
 */
export function projectedMonthlyCost(input: {
  current: Quota;
  requested: Quota;
  pool: string;
  arch?: string;
  versions: readonly PriceBookVersion[];
  at: Date;
}): ProjectedCost {
  const proposed = mergedQuota(input.current, input.requested);
  const p = costPreview({ current: {}, proposed, pool: input.pool, ...(input.arch ? { arch: input.arch } : {}), versions: input.versions, at: input.at });
  return { monthly: p.monthlyDelta, currency: p.currency, priceBookVersion: p.priceBookVersion, month: p.month, unpriced: p.unpriced };
}

/** Whether `cost` is at most `budget`: same currency, a price book in force, every resource priced. */
export function withinBudget(cost: ProjectedCost, budget: MonthlyBudget): boolean {
  if (cost.priceBookVersion === null || cost.currency !== budget.currency || cost.unpriced.length > 0) return false;
  if (cost.monthly.startsWith('-')) return true;
  return toMicros(cost.monthly) <= toMicros(budget.amount);
}

/**
 * Monthly cost of one more edge node in `pool` (architecture `arch`), under the price book in force for the
 * month of `at`: a full calendar month of node-hours. Same shape as a quota cost preview, so approvers see
 * one kind of cost block whatever the ticket type.
 */
export function edgeNodeCostPreview(input: { pool: string; arch?: string; versions: readonly PriceBookVersion[]; at: Date }): CostPreview {
  return resourceCostPreview({ ...input, changes: [{ resource: 'edgeNode', current: 0, proposed: 1 }] });
}

/**
 * Monthly cost delta of holding each resource at `proposed` instead of `current` for the whole month of
 * `at`, under the price book in force then (e.g. one more edge node, a workload's volumes growing).
 * Resources whose quantity does not change get no line. Pure, like {@link costPreview}.
 */
export function resourceCostPreview(input: {
  changes: readonly { resource: PricedResource; current: number; proposed: number }[];
  pool: string;
  arch?: string;
  versions: readonly PriceBookVersion[];
  at: Date;
}): CostPreview {
  const month = monthOf(input.at);
  const book = versionForMonth(input.versions, month);
  const monthStart = new Date(`${month}-01T00:00:00.000Z`);
  const ms = monthMs(monthStart);
  const lines: CostPreview['lines'] = [];
  const unpriced: PricedResource[] = [];
  let total = 0n;
  for (const c of input.changes) {
    if (c.current === c.proposed) continue;
    const price = book ? unitPriceOf(book, c.resource, input.pool, input.arch) : undefined;
    if (price === undefined) unpriced.push(c.resource);
    const unitPrice = price ?? '0';
    const delta =
      amountMinor(c.resource, toMicros(c.proposed), unitPrice, ms, monthStart) - amountMinor(c.resource, toMicros(c.current), unitPrice, ms, monthStart);
    total += delta;
    lines.push({
      resource: c.resource,
      unit: PRICE_UNITS[c.resource],
      current: formatMicros(toMicros(c.current)),
      proposed: formatMicros(toMicros(c.proposed)),
      unitPrice,
      monthlyDelta: formatMinor(delta),
    });
  }
  return { priceBookVersion: book?.version ?? null, currency: book?.currency ?? null, month, lines, monthlyDelta: formatMinor(total), unpriced };
}

/** A change that costs nothing (e.g. an application space): no lines, still naming the price book in force. */
export function noCostPreview(versions: readonly PriceBookVersion[], at: Date): CostPreview {
  const month = monthOf(at);
  const book = versionForMonth(versions, month);
  return { priceBookVersion: book?.version ?? null, currency: book?.currency ?? null, month, lines: [], monthlyDelta: '0.00', unpriced: [] };
}
