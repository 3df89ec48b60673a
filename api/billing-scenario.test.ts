import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costPreview, type PriceBookInput, type LedgerLine } from '../common/billing.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { ledgerLineId } from '../store/ledger.ts';
import type { PriceBookStore } from '../store/pricebook.ts';
import { chargeback, chargebackCsv, showback, showbackCsv, type ReportLedgerLine, type ReportScope } from '../services/billing-report.ts';

/**
 * The billing scenario of issue 6 against the real MongoDB-wire server (a database of its own): ledger
 * lines written with provenance, a price book with a mid-month change, invoice lines and totals checked
 * against values computed by hand below.
 */
let store: Store;
let priceBook: PriceBookStore;
const vdc = uniqueName('bill');
const domain = uniqueName('billdom');
const pool = 'p1';
const wf = (n: number): string => `${vdc}-ticket-${n}`;
const RUN = 'run-0001';
const ops = { sub: 'u-ops', name: 'Olga Ops' };

const day = (d: number, h = 0, m = 0): Date => new Date(Date.UTC(2026, 0, d, h, m));
const line = (n: number, fact: LedgerLine['fact'], start: Date, quantities: LedgerLine['quantities'], end?: Date): Omit<LedgerLine, 'createdAt'> => ({
  _id: ledgerLineId(wf(n), RUN, 10 + n),
  workflowId: wf(n),
  runId: RUN,
  eventId: 10 + n,
  fact,
  vdcId: vdc,
  domainId: domain,
  pool,
  quantities,
  units: { cpu: 'core', memoryGi: 'GiB', pods: 'pod' },
  start,
  ...(end ? { end } : {}),
});

const V1: PriceBookInput = {
  currency: 'CNY',
  prices: [
    { resource: 'cpu', pool: '*', arch: '*', unitPrice: '0.05' },
    { resource: 'cpu', pool, arch: '*', unitPrice: '0.06' },
    { resource: 'memory', pool: '*', arch: '*', unitPrice: '0.01' },
    { resource: 'pods', pool: '*', arch: '*', unitPrice: '0.001' },
    { resource: 'edgeNode', pool: '*', arch: '*', unitPrice: '0.3' },
    { resource: 'edgeNode', pool: '*', arch: 'arm64', unitPrice: '0.5' },
  ],
};
const V2: PriceBookInput = {
  currency: 'CNY',
  prices: [
    { resource: 'cpu', pool: '*', arch: '*', unitPrice: '0.08' },
    { resource: 'memory', pool: '*', arch: '*', unitPrice: '0.02' },
    { resource: 'pods', pool: '*', arch: '*', unitPrice: '0.002' },
    { resource: 'edgeNode', pool: '*', arch: '*', unitPrice: '0.4' },
  ],
};

const scope: ReportScope = { kind: 'vdc', id: vdc };
const january = { from: day(1), to: new Date(Date.UTC(2026, 1, 1)) };
const february = { from: new Date(Date.UTC(2026, 1, 1)), to: new Date(Date.UTC(2026, 2, 1)) };
const read = async (): Promise<ReportLedgerLine[]> => (await store.ledger.list([vdc])) as ReportLedgerLine[];

beforeAll(async () => {
  const url = new URL(stackEnv('EDGEPORT_MONGO_URL'));
  url.pathname = `/${uniqueName('billing').replaceAll('-', '_')}`;
  store = await openStore(url.href);
  priceBook = store.priceBooks;
  // v1, the install's first version, applies from the beginning; v2 published mid-January applies from February only.
  await priceBook.publish(V1, ops, new Date(Date.UTC(2025, 11, 15)));
  await priceBook.publish(V2, ops, day(15, 12));
  // Quota grant on day 3, lease of +2 cores days 10–12, quota change on day 10 (the full quota in force).
  await store.ledger.upsert(line(1, 'quota.allocation.changed', day(3), { cpu: 4, memoryGi: 8, pods: 20 }));
  await store.ledger.upsert(line(2, 'quota.allocation.changed', day(10), { cpu: 6, memoryGi: 8, pods: 20 }));
  await store.ledger.upsert(line(3, 'quota.lease', day(10), { cpu: 2 }, day(12)));
  // An arm64 edge node joined on day 20 (node-hours, priced for its architecture).
  await store.ledger.upsert({ ...line(4, 'node.joined', day(20), { nodes: 1 }), arch: 'arm64', subject: 'edge-arm64-9', units: { nodes: 'node' } });
  // A retried write with the same provenance changes nothing.
  await store.ledger.upsert(line(1, 'quota.allocation.changed', day(3), { cpu: 4, memoryGi: 8, pods: 20 }));
}, 60_000);

afterAll(async () => {
  await store?.testing.dropDatabase().catch(() => undefined);
  await store?.close();
});

describe('billing scenario (quota grant day 3, change + lease day 10, arm64 node joined day 20, price change mid-month)', () => {
  it('the first price book version applies from the beginning, a later one from the next month', async () => {
    const versions = await priceBook.list();
    expect(versions.map((v) => [v.version, v.effectiveFrom])).toEqual([
      [1, '1970-01'],
      [2, '2026-02'],
    ]);
  });

  it('January invoice: lines and totals match the hand-computed values, priced by v1 only', async () => {
    const r = chargeback(await read(), await priceBook.list(), scope, january, january.to);
    expect(r.priceBookVersions).toEqual([1]);
    expect(r.invoices).toHaveLength(1);
    const got = r.invoices[0]!.lines.map((l) => [
      l.provenance.eventId,
      l.resource,
      l.quantity,
      l.from.slice(0, 10),
      l.to.slice(0, 10),
      l.usage,
      l.unitPrice,
      l.amount,
    ]);
    // Day 3 → day 10 = 168 h at the day-3 quota; day 10 → Feb 1 = 528 h at the day-10 quota; lease 48 h.
    expect(got).toEqual([
      [11, 'cpu', '4.000000', '2026-01-03', '2026-01-10', '672.000000', '0.06', '40.32'], // 4 × 168 × 0.06 (pool price)
      [11, 'memory', '8.000000', '2026-01-03', '2026-01-10', '1344.000000', '0.01', '13.44'], // 8 × 168 × 0.01
      [11, 'pods', '20.000000', '2026-01-03', '2026-01-10', '3360.000000', '0.001', '3.36'], // 20 × 168 × 0.001
      [12, 'cpu', '6.000000', '2026-01-10', '2026-02-01', '3168.000000', '0.06', '190.08'], // 6 × 528 × 0.06
      [13, 'cpu', '2.000000', '2026-01-10', '2026-01-12', '96.000000', '0.06', '5.76'], // lease 2 × 48 × 0.06
      [12, 'memory', '8.000000', '2026-01-10', '2026-02-01', '4224.000000', '0.01', '42.24'], // 8 × 528 × 0.01
      [12, 'pods', '20.000000', '2026-01-10', '2026-02-01', '10560.000000', '0.001', '10.56'], // 20 × 528 × 0.001
      [14, 'edgeNode', '1.000000', '2026-01-20', '2026-02-01', '288.000000', '0.5', '144.00'], // 288 h × 0.5 (the arm64 price, not the 0.3 of any arch)
    ]);
    expect(r.invoices[0]!.lines.find((l) => l.resource === 'edgeNode')?.arch).toBe('arm64');
    expect(r.invoices[0]!.lines.filter((l) => l.arch !== undefined)).toHaveLength(1);
    expect(r.invoices[0]!.totals).toEqual({ CNY: '449.76' });
    expect(r.totals).toEqual({ CNY: '449.76' });
    // Every line links to the history event it came from.
    for (const l of r.invoices[0]!.lines) {
      expect(l.provenance.ledgerLineId).toBe(`${l.provenance.workflowId}/${l.provenance.runId}/${l.provenance.eventId}`);
      expect(l.provenance.workflowId).toBe(wf(l.provenance.eventId - 10));
      expect(l.priceBookVersion).toBe(1);
    }
  });

  it('February is priced by v2 (the mid-January change), the day-10 quota still in force', async () => {
    const r = chargeback(await read(), await priceBook.list(), scope, february, february.to);
    expect(r.priceBookVersions).toEqual([2]);
    // 28 days = 672 h: cpu 6 × 672 × 0.08, memory 8 × 672 × 0.02, pods 20 × 672 × 0.002; v2 has no arm64
    // node price, so the node falls back to the any-arch 0.4: 672 × 0.4.
    expect(r.invoices[0]!.lines.map((l) => [l.resource, l.amount])).toEqual([
      ['cpu', '322.56'],
      ['memory', '107.52'],
      ['pods', '26.88'],
      ['edgeNode', '268.80'],
    ]);
    expect(r.totals).toEqual({ CNY: '725.76' });
  });

  it('a period across the price change splits at the month boundary; an open period stops at asOf', async () => {
    const r = chargeback(
      await read(),
      await priceBook.list(),
      scope,
      { from: day(31), to: new Date(Date.UTC(2026, 1, 2)) },
      new Date(Date.UTC(2026, 1, 1, 12)),
    );
    // Jan 31 (24 h, v1) + Feb 1 00:00–12:00 (12 h, v2): cpu 6×24×0.06 + 6×12×0.08 = 8.64 + 5.76, …; node 24×0.5 + 12×0.4.
    expect(r.invoices[0]!.lines.map((l) => [l.resource, l.priceBookVersion, l.amount])).toEqual([
      ['cpu', 1, '8.64'],
      ['memory', 1, '1.92'],
      ['pods', 1, '0.48'],
      ['edgeNode', 1, '12.00'],
      ['cpu', 2, '5.76'],
      ['memory', 2, '1.92'],
      ['pods', 2, '0.48'],
      ['edgeNode', 2, '4.80'],
    ]);
    expect(r.totals).toEqual({ CNY: '36.00' });
    expect(r.asOf).toBe('2026-02-01T12:00:00.000Z');
  });

  it('rounds each line once, half away from zero, to 2 decimals (7 minutes on day 3)', async () => {
    const r = chargeback(await read(), await priceBook.list(), scope, { from: day(3), to: day(3, 0, 7) }, day(3, 0, 7));
    // cpu 4 × 7/60 × 0.06 = 0.028 → 0.03; memory 8 × 7/60 × 0.01 = 0.00933 → 0.01; pods 20 × 7/60 × 0.001 = 0.00233 → 0.00.
    expect(r.invoices[0]!.lines.map((l) => l.amount)).toEqual(['0.03', '0.01', '0.00']);
    expect(r.totals).toEqual({ CNY: '0.04' });
  });

  it('showback sums usage and cost per resource with the ledger lines behind each row', async () => {
    const r = showback(await read(), await priceBook.list(), scope, january, january.to);
    expect(r.rows.map((row) => [row.resource, row.usage, row.amount, row.ledgerLines.length])).toEqual([
      ['cpu', '3936.000000', '236.16', 3],
      ['memory', '5568.000000', '55.68', 2],
      ['pods', '13920.000000', '13.92', 2],
      ['edgeNode', '288.000000', '144.00', 1],
    ]);
    expect(r.totals).toEqual({ CNY: '449.76' });
  });

  it('CSV rebuilt from the store twice is byte-identical', async () => {
    const build = async (): Promise<string> => {
      const [lines, versions] = await Promise.all([read(), priceBook.list()]);
      return chargebackCsv(chargeback(lines, versions, scope, january, january.to)) + showbackCsv(showback(lines, versions, scope, january, january.to));
    };
    const [a, b] = [await build(), await build()];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const rows = a.split('\r\n');
    expect(rows[0]).toBe(
      'row,vdc_id,domain_id,pool,arch,resource,unit,quantity,from,to,usage,unit_price,currency,price_book_version,amount,workflow_id,run_id,event_id',
    );
    expect(rows[1]).toBe(
      `line,${vdc},${domain},p1,,cpu,core-hour,4.000000,2026-01-03T00:00:00.000Z,2026-01-10T00:00:00.000Z,672.000000,0.06,CNY,1,40.32,${wf(1)},${RUN},11`,
    );
    expect(rows).toContain(`total,,,,,,,,2026-01-01T00:00:00.000Z,2026-02-01T00:00:00.000Z,,,CNY,,449.76,,,`);
    expect(rows).toContain(
      `line,${vdc},${domain},p1,arm64,edgeNode,node-hour,1.000000,2026-01-20T00:00:00.000Z,2026-02-01T00:00:00.000Z,288.000000,0.5,CNY,1,144.00,${wf(4)},${RUN},14`,
    );
  });

  it('cost preview: monthly delta of a quota change under the price book in force', async () => {
    const versions = await priceBook.list();
    const current = { cpu: 4, memoryGi: 8, pods: 20 };
    // January (31 days = 744 h, v1, pool price): +2 cores × 744 × 0.06 = 89.28.
    const jan = costPreview({ current, proposed: { cpu: 6 }, pool, versions, at: day(20) });
    expect(jan).toMatchObject({ priceBookVersion: 1, currency: 'CNY', month: '2026-01', monthlyDelta: '89.28', unpriced: [] });
    expect(jan.lines).toEqual([{ resource: 'cpu', unit: 'core-hour', current: '4.000000', proposed: '6.000000', unitPrice: '0.06', monthlyDelta: '89.28' }]);
    // February (672 h, v2): +2 cores × 672 × 0.08 = 107.52; −4 GiB × 672 × 0.02 = −53.76.
    const feb = costPreview({ current, proposed: { cpu: 6, memoryGi: 4 }, pool, versions, at: new Date(Date.UTC(2026, 1, 10)) });
    expect(feb.lines.map((l) => l.monthlyDelta)).toEqual(['107.52', '-53.76']);
    expect(feb.monthlyDelta).toBe('53.76');
    // The install's first version applies from the beginning: a month before it was published is priced by it.
    expect(costPreview({ current, proposed: { cpu: 6 }, pool, versions, at: new Date(Date.UTC(2025, 5, 1)) })).toMatchObject({ priceBookVersion: 1 });
    // No version at all: nothing priced, said so.
    expect(costPreview({ current, proposed: { cpu: 6 }, pool, versions: [], at: new Date(Date.UTC(2025, 5, 1)) })).toMatchObject({
      priceBookVersion: null,
      monthlyDelta: '0.00',
      unpriced: ['cpu'],
    });
  });
});
