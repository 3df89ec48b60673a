import { describe, expect, it } from 'vitest';
import type { PriceBookVersion } from '../common/billing.ts';
import { projectedMonthlyCost, withinBudget, type MonthlyBudget, type ProjectedCost } from '../common/budget.ts';
import { decideQuotaChange, QUOTA_POLICY_VERSION } from './quota-change.ts';

/** April 2026 has 30 days: 720 hours. cpu 1.00/core-hour → 720.00 a core-month; memory 0.10/GiB-hour → 72.00. */
const book = (
  version: number,
  currency = 'CNY',
  prices = [
    { resource: 'cpu', unitPrice: '1' },
    { resource: 'memory', unitPrice: '0.1' },
    { resource: 'pods', unitPrice: '0' },
  ],
): PriceBookVersion => ({
  version,
  effectiveFrom: '2026-01',
  currency,
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  prices: prices.map((p) => ({ ...p, pool: '*', arch: '*' })) as PriceBookVersion['prices'],
  createdBy: { sub: 'u', name: 'U' },
  createdAt: '2025-12-01T00:00:00.000Z',
});
const at = new Date('2026-04-10T00:00:00Z');
const current = { cpu: 10, memoryGi: 10, pods: 20 };
const priced = (requested: Parameters<typeof decideQuotaChange>[0]['requested'], versions = [book(1)]): ProjectedCost =>
  projectedMonthlyCost({ current, requested, pool: 'local', versions, at });
const budget = (amount: string, currency = 'CNY'): MonthlyBudget => ({ amount, currency });

describe('projected monthly cost', () => {
  it('prices the whole quota after the change and names the price-book version', () => {
    // cpu 11 × 720 + memory 10 × 72 + pods 0 = 7920 + 720
    expect(priced({ cpu: 11 })).toEqual({ monthly: '8640.00', currency: 'CNY', priceBookVersion: 1, month: '2026-04', unpriced: [] });
  });
  it.each([
    ['at the budget', '8640.00', true],
    ['one cent under', '8639.99', false],
    ['above', '10000', true],
  ])('%s', (_n, amount, ok) => expect(withinBudget(priced({ cpu: 11 }), budget(amount))).toBe(ok));
  it('another currency, no price book, an unpriced resource: never within', () => {
    expect(withinBudget(priced({ cpu: 11 }), budget('99999', 'EUR'))).toBe(false);
    expect(withinBudget(priced({ cpu: 11 }, []), budget('99999'))).toBe(false);
    expect(withinBudget(priced({ cpu: 11 }, [book(2, 'CNY', [{ resource: 'cpu', unitPrice: '1' }])]), budget('99999'))).toBe(false);
  });
});

describe(`decideQuotaChange auto-approval on budget (${QUOTA_POLICY_VERSION})`, () => {
  const roomy = budget('10000.00');
  it.each([
    {
      name: 'within 10% and under budget',
      requested: { cpu: 11 },
      b: roomy,
      outcome: 'auto-approve',
      reason: 'increase within 10% (cpu 10 → 11) and under budget: 8640.00 CNY/month ≤ 10000.00 CNY (price book v1)',
    },
    {
      name: 'two resources within 10%',
      requested: { cpu: 10.5, memoryGi: 11 },
      b: roomy,
      outcome: 'auto-approve',
      reason: expect.stringContaining('cpu 10 → 10.5, memoryGi 10 → 11'),
    },
    { name: 'just above 10%', requested: { cpu: 11.001 }, b: roomy, outcome: 'approval', reason: 'increase of cpu' },
    { name: 'one resource within, one above 10%', requested: { cpu: 11, pods: 23 }, b: roomy, outcome: 'approval', reason: 'increase of cpu, pods' },
    {
      name: 'within 10% but over budget',
      requested: { cpu: 11 },
      b: budget('8000'),
      outcome: 'approval',
      reason: 'increase of cpu; not auto-approved: 8640.00 CNY/month exceeds the budget of 8000 CNY (price book v1)',
    },
    {
      name: 'within 10%, budget in another currency',
      requested: { cpu: 11 },
      b: budget('99999', 'EUR'),
      outcome: 'approval',
      reason: expect.stringContaining('is in CNY, the budget in EUR'),
    },
    { name: 'within 10%, no budget set', requested: { cpu: 11 }, b: undefined, outcome: 'approval', reason: 'increase of cpu' },
  ])('$name → $outcome', ({ requested, b, outcome, reason }) => {
    const d = decideQuotaChange({ current, requested, budget: { ...(b ? { monthlyBudget: b } : {}), projected: priced(requested) } });
    expect(d).toMatchObject({ version: QUOTA_POLICY_VERSION, outcome, reason });
    if (d.outcome !== 'deny') expect(d.chain.map((s) => s.role)).toEqual(outcome === 'approval' ? ['vdc-admin'] : []);
  });
  it('no price book in force: approval, reason says so', () => {
    const d = decideQuotaChange({ current, requested: { cpu: 11 }, budget: { monthlyBudget: roomy, projected: priced({ cpu: 11 }, []) } });
    expect(d).toMatchObject({ outcome: 'approval', reason: 'increase of cpu; not auto-approved: no price book in force to check the budget' });
  });
  it('growing from zero is never "within 10%"', () => {
    const d = decideQuotaChange({ current: { cpu: 0 }, requested: { cpu: 0.1 }, budget: { monthlyBudget: roomy, projected: priced({ cpu: 0.1 }) } });
    expect(d.outcome).toBe('approval');
  });
  it('the ceiling still denies first', () => {
    expect(
      decideQuotaChange({ current: { cpu: 510 }, requested: { cpu: 513 }, budget: { monthlyBudget: budget('999999999'), projected: priced({ cpu: 513 }) } }),
    ).toMatchObject({ outcome: 'deny', field: 'quota.cpu' });
  });
});
