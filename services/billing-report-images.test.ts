import { describe, expect, it } from 'vitest';
import type { PriceBookVersion } from '../common/billing.ts';
import { chargeback, showback, type ReportLedgerLine } from './billing-report.ts';

/**
 * Image-storage lines (`image.storage`, `imageStorageGi` held over the metering interval) priced as
 * `imageStorage` in GiB-month: quantity × unit price × (interval ÷ calendar month), rounded once per line;
 * a new price-book version applies from its month. Expected values are computed by hand below.
 */
const ops = { sub: 'u-ops', name: 'Olga Ops' };
const book = (version: number, effectiveFrom: string, imageStorage: string): PriceBookVersion => ({
  version,
  effectiveFrom,
  currency: 'CNY',
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  prices: [{ resource: 'imageStorage', pool: '*', arch: '*', unitPrice: imageStorage }],
  createdBy: ops,
  createdAt: '2026-10-01T00:00:00.000Z',
});
const versions = [book(1, '2026-11', '1.5'), book(2, '2026-12', '3')];
const at = (m: number, d: number, h = 0): Date => new Date(Date.UTC(2026, m - 1, d, h));
const line = (id: number, vdcId: string, gib: number, start: Date, end: Date): ReportLedgerLine => ({
  _id: `image-storage-metering-x/run/${id}`,
  workflowId: 'image-storage-metering-x',
  runId: 'run',
  eventId: id,
  fact: 'image.storage',
  vdcId,
  domainId: 'dom',
  pool: 'p1',
  quantities: { imageStorageGi: gib },
  start,
  end,
});
// November 2026 has 720 hours, December 744.
const lines: ReportLedgerLine[] = [
  line(5, 'vdc-img', 144, at(11, 25, 6), at(11, 25, 7)), // 144 × 1.5 × 1/720 = 0.30
  line(7, 'vdc-img', 10, at(11, 26), at(11, 27)), // 10 × 1.5 × 24/720 = 0.50
  line(9, 'vdc-img', 7, at(11, 27, 3), at(11, 27, 4)), // 7 × 1.5 × 1/720 = 0.0145833… → 0.01
  line(11, 'vdc-img', 30, at(11, 30, 12), at(12, 1, 12)), // Nov: 30 × 1.5 × 12/720 = 0.75; Dec (v2): 30 × 3 × 12/744 = 1.4516… → 1.45
];
const period = { from: at(11, 1), to: new Date(Date.UTC(2027, 0, 1)) };
const scope = { kind: 'vdc', id: 'vdc-img' } as const;

describe('image-storage lines in reports', () => {
  it('chargeback prices GiB-month per line by the version of its month, with hand-computed amounts and totals', () => {
    const r = chargeback(lines, versions, scope, period, period.to);
    expect(r.priceBookVersions).toEqual([1, 2]);
    expect(r.invoices).toHaveLength(1);
    const inv = r.invoices[0]!;
    expect(inv.lines.map((l) => [l.provenance.eventId, l.resource, l.unit, l.from, l.to, l.unitPrice, l.priceBookVersion, l.amount])).toEqual([
      [5, 'imageStorage', 'GiB-month', '2026-11-25T06:00:00.000Z', '2026-11-25T07:00:00.000Z', '1.5', 1, '0.30'],
      [7, 'imageStorage', 'GiB-month', '2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z', '1.5', 1, '0.50'],
      [9, 'imageStorage', 'GiB-month', '2026-11-27T03:00:00.000Z', '2026-11-27T04:00:00.000Z', '1.5', 1, '0.01'],
      [11, 'imageStorage', 'GiB-month', '2026-11-30T12:00:00.000Z', '2026-12-01T00:00:00.000Z', '1.5', 1, '0.75'],
      [11, 'imageStorage', 'GiB-month', '2026-12-01T00:00:00.000Z', '2026-12-01T12:00:00.000Z', '3', 2, '1.45'],
    ]);
    // Usage in GiB-months: 144/720 = 0.2; 10 × 24/720 = 0.333333; 7/720 = 0.009722; 30 × 12/720 = 0.5; 30 × 12/744 = 0.483871.
    expect(inv.lines.map((l) => Number(l.usage))).toEqual([0.2, 0.333333, 0.009722, 0.5, 0.483871]);
    expect(inv.lines.every((l) => l.provenance.workflowId === 'image-storage-metering-x' && l.currency === 'CNY')).toBe(true);
    // 0.30 + 0.50 + 0.01 + 0.75 + 1.45
    expect(inv.totals).toEqual({ CNY: '3.01' });
    expect(r.totals).toEqual({ CNY: '3.01' });
  });

  it('showback sums the same lines into one imageStorage row per VDC and pool', () => {
    const r = showback(lines, versions, scope, period, period.to);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ vdcId: 'vdc-img', pool: 'p1', resource: 'imageStorage', unit: 'GiB-month', currency: 'CNY', amount: '3.01' });
    expect(r.rows[0]!.ledgerLines).toEqual(lines.map((l) => l._id).sort());
  });
});
