import { describe, expect, it } from 'vitest';
import { ledgerLineProblem, MAX_LEDGER_QUANTITY, type PriceBookVersion } from '../common/billing.ts';
import { renderReportPdf } from './billing-pdf.ts';
import { chargeback, chargebackCsv, showback, showbackCsv, streamReport, type ReportLedgerLine } from './billing-report.ts';

/**
 * One bad ledger line never fails a report (issue 19): a line that cannot be priced is left out of every
 * total and listed under `errors`; a voided line is billed by nothing and listed under `voided`. Pure: the
 * same report builder the API streams; the API side is `api/storage-quota.test.ts`.
 */
const book: PriceBookVersion = {
  version: 1,
  effectiveFrom: '1970-01',
  currency: 'CNY',
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  prices: [
    { resource: 'cpu', pool: '*', arch: '*', unitPrice: '0.06' },
    { resource: 'storage', pool: '*', arch: '*', unitPrice: '10' },
  ],
  createdBy: { sub: 'u-ops', name: 'Olga Ops' },
  createdAt: '2025-12-01T00:00:00.000Z',
};
const period = { from: new Date('2026-01-01T00:00:00.000Z'), to: new Date('2026-02-01T00:00:00.000Z') };
const asOf = period.to;
const line = (
  id: string,
  vdcId: string,
  fact: ReportLedgerLine['fact'],
  quantities: Record<string, number>,
  extra: Partial<ReportLedgerLine> = {},
): ReportLedgerLine => ({
  _id: `${id}/run/1`,
  workflowId: id,
  runId: 'run',
  eventId: 1,
  fact,
  vdcId,
  domainId: 'dom',
  pool: 'p1',
  quantities: quantities as ReportLedgerLine['quantities'],
  start: new Date('2026-01-10T00:00:00.000Z'),
  ...extra,
});
const good = line('q', 'vdc-a', 'quota.allocation.changed', { cpu: 2, storageGi: 100 });
const huge = line('h4huge', 'vdc-a', 'volume.storage', { storageGi: 1.024e23 }, { subject: 'ns/h4huge' });
const costly = line('costly', 'vdc-b', 'volume.storage', { storageGi: 999_999_999_999 }, { subject: 'ns/big' });
const fine = line('fine', 'vdc-b', 'volume.storage', { storageGi: 10 }, { subject: 'ns/fine' });
const voided = line(
  'void',
  'vdc-b',
  'volume.storage',
  { storageGi: 5 },
  {
    subject: 'ns/v',
    voided: { by: { sub: 'u-fin', name: 'Fiona Finance' }, at: new Date('2026-01-20T00:00:00.000Z'), reason: '=cmd|bad' },
  },
);

describe('reports with lines they cannot price', () => {
  const all = [good, huge, costly, fine, voided];
  const clean = chargeback([good, fine], [book], { kind: 'platform' }, period, asOf);

  it('chargeback and showback still build, leave the bad lines out of every total and name them; a voided line is listed, not billed', () => {
    const cb = chargeback(all, [book], { kind: 'platform' }, period, asOf);
    expect(cb.totals).toEqual(clean.totals);
    expect(cb.errors).toEqual([
      { ledgerLineId: 'h4huge/run/1', vdcId: 'vdc-a', domainId: 'dom', pool: 'p1', reason: 'not a decimal with at most 6 fraction digits: 1.024e+23' },
      {
        ledgerLineId: 'costly/run/1',
        vdcId: 'vdc-b',
        domainId: 'dom',
        pool: 'p1',
        reason: expect.stringMatching(/^amount .* of storageGi is above the bound/),
      },
    ]);
    expect(cb.voided).toEqual([
      { ledgerLineId: 'void/run/1', vdcId: 'vdc-b', domainId: 'dom', pool: 'p1', reason: '=cmd|bad', by: 'Fiona Finance', at: '2026-01-20T00:00:00.000Z' },
    ]);
    const billed = cb.invoices.flatMap((i) => i.lines.map((l) => l.provenance.ledgerLineId));
    expect(billed).not.toContain('void/run/1');
    expect(billed).not.toContain('h4huge/run/1');
    // The storage quota on a quota line is a cap: only cpu is billed from it.
    expect(cb.invoices.flatMap((i) => i.lines.filter((l) => l.provenance.ledgerLineId === 'q/run/1').map((l) => l.resource))).toEqual(['cpu']);

    const sb = showback(all, [book], { kind: 'platform' }, period, asOf);
    expect(sb.errors.map((e) => e.ledgerLineId)).toEqual(['h4huge/run/1', 'costly/run/1']);
    expect(sb.totals).toEqual(clean.totals);
  });

  it('CSV lists error and voided rows after the totals (free text never starts a formula); streaming gives the same bytes; the PDF renders', async () => {
    const cb = chargeback(all, [book], { kind: 'platform' }, period, asOf);
    const csv = chargebackCsv(cb);
    expect(csv).toContain('error,vdc-a,dom,p1,,,not a decimal with at most 6 fraction digits: 1.024e+23,,,,,,,,,h4huge,run,1\r\n');
    expect(csv).toContain("voided,vdc-b,dom,p1,,,'=cmd|bad (voided by Fiona Finance at 2026-01-20T00:00:00.000Z),,,,,,,,,void,run,1\r\n");
    for (const [kind, format, expected] of [
      ['chargeback', 'csv', csv],
      ['chargeback', 'json', JSON.stringify(cb)],
      ['showback', 'csv', showbackCsv(showback(all, [book], { kind: 'platform' }, period, asOf))],
    ] as const) {
      let out = '';
      await streamReport({
        kind,
        format,
        source: (async function* () {
          yield* all;
        })(),
        versions: [book],
        scope: { kind: 'platform' },
        period,
        asOf,
        write: (c) => void (out += c),
      });
      if (format === 'json') expect(JSON.parse(out)).toEqual(JSON.parse(expected));
      else expect(out).toBe(expected);
    }
    expect((await renderReportPdf(cb)).length).toBeGreaterThan(1000);
  });
});

describe('ledger line bounds', () => {
  it('refuses quantities that are not finite, negative or above the bound, and accepts the rest', () => {
    expect(ledgerLineProblem({ quantities: { cpu: 2, storageGi: 65_536 } })).toBeUndefined();
    expect(ledgerLineProblem({ quantities: { storageGi: 1.024e23 } })).toMatch(/storageGi 1.024e\+23 is above the ledger's bound/);
    expect(ledgerLineProblem({ quantities: { storageGi: MAX_LEDGER_QUANTITY + 1 } })).toMatch(/above/);
    expect(ledgerLineProblem({ quantities: { cpu: -1 } })).toMatch(/negative/);
    expect(ledgerLineProblem({ quantities: { cpu: Number.NaN } })).toMatch(/not a finite number/);
  });
});
