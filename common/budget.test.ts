import { describe, expect, it } from 'vitest';
import type { PriceBookVersion } from './billing.ts';
import { edgeNodeCostPreview, resourceCostPreview } from './budget.ts';

const book: PriceBookVersion = {
  version: 3,
  effectiveFrom: '2026-01',
  currency: 'CNY',
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  prices: [
    { resource: 'storage', pool: '*', arch: '*', unitPrice: '31' },
    { resource: 'edgeNode', pool: 'edge', arch: 'arm64', unitPrice: '0.5' },
  ],
  createdBy: { sub: 'u-ops', name: 'Olga Ops' },
  createdAt: '2025-12-01T00:00:00.000Z',
};
const at = new Date('2026-12-04T10:00:00Z');

describe('resourceCostPreview', () => {
  it('prices the monthly delta of each changed resource (storage 5 → 8 GiB at 31/GiB-month = 93.00)', () => {
    const p = resourceCostPreview({ changes: [{ resource: 'storage', current: 5, proposed: 8 }], pool: 'local', versions: [book], at });
    expect(p).toEqual({
      priceBookVersion: 3,
      currency: 'CNY',
      month: '2026-12',
      lines: [{ resource: 'storage', unit: 'GiB-month', current: '5.000000', proposed: '8.000000', unitPrice: '31', monthlyDelta: '93.00' }],
      monthlyDelta: '93.00',
      unpriced: [],
    });
  });

  it('a shrink is negative; an unchanged resource has no line; a resource without a price is named unpriced at 0', () => {
    expect(resourceCostPreview({ changes: [{ resource: 'storage', current: 2, proposed: 0 }], pool: 'local', versions: [book], at }).monthlyDelta).toBe(
      '-62.00',
    );
    expect(resourceCostPreview({ changes: [{ resource: 'storage', current: 2, proposed: 2 }], pool: 'local', versions: [book], at }).lines).toEqual([]);
    const none = resourceCostPreview({ changes: [{ resource: 'imageStorage', current: 0, proposed: 1 }], pool: 'local', versions: [book], at });
    expect(none).toMatchObject({ monthlyDelta: '0.00', unpriced: ['imageStorage'] });
    expect(resourceCostPreview({ changes: [{ resource: 'storage', current: 0, proposed: 1 }], pool: 'local', versions: [], at })).toMatchObject({
      priceBookVersion: null,
      currency: null,
      unpriced: ['storage'],
    });
  });

  it('one more edge node is one node held for the whole month (December: 744 h × 0.5)', () => {
    expect(edgeNodeCostPreview({ pool: 'edge', arch: 'arm64', versions: [book], at })).toMatchObject({
      monthlyDelta: '372.00',
      lines: [{ resource: 'edgeNode', current: '0.000000', proposed: '1.000000', unitPrice: '0.5' }],
    });
  });
});
