import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PriceBookVersion } from '../common/billing.ts';
import { renderReportPdf, reportHash } from './billing-pdf.ts';
import {
  chargeback,
  chargebackCsv,
  showback,
  showbackCsv,
  streamReport,
  whatIf,
  type ReportKind,
  type ReportLedgerLine,
  type StreamFormat,
} from './billing-report.ts';

/**
 * Streaming reports equal the in-memory ones byte for byte, and the PDF invoice is deterministic and
 * parses back (Debian poppler-utils `pdftotext`) to the same lines and totals.
 */
const ops = { sub: 'u-ops', name: 'Olga Ops' };
const book = (version: number, effectiveFrom: string, cpu: string): PriceBookVersion => ({
  version,
  effectiveFrom,
  currency: 'CNY',
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  prices: [
    { resource: 'cpu', pool: '*', arch: '*', unitPrice: cpu },
    { resource: 'memory', pool: '*', arch: '*', unitPrice: '0.01' },
    { resource: 'edgeNode', pool: '*', arch: '*', unitPrice: '0.5' },
  ],
  createdBy: ops,
  createdAt: '2025-12-01T00:00:00.000Z',
});
const versions = [book(1, '2026-01', '0.06'), book(2, '2026-02', '0.08')];
const day = (d: number, h = 0): Date => new Date(Date.UTC(2026, 0, d, h));
let n = 0;
const line = (vdcId: string, fact: ReportLedgerLine['fact'], start: Date, quantities: ReportLedgerLine['quantities'], end?: Date): ReportLedgerLine => {
  n++;
  return {
    _id: `wf-${n}/run/${n}`,
    workflowId: `wf-${n}`,
    runId: 'run',
    eventId: n,
    fact,
    vdcId,
    domainId: 'dom',
    pool: 'p1',
    quantities,
    start,
    ...(end ? { end } : {}),
  };
};
const lines: ReportLedgerLine[] = [
  line('vdc-b', 'quota.allocation.changed', day(3), { cpu: 4, memoryGi: 8 }),
  line('vdc-a', 'quota.allocation.changed', day(5), { cpu: 2, memoryGi: 4 }),
  line('vdc-b', 'quota.lease', day(10), { cpu: 2 }, day(12)),
  line('vdc-b', 'quota.allocation.changed', day(20), { cpu: 1, memoryGi: 8 }),
  line('vdc-a', 'node.joined', day(20, 6), { nodes: 1 }),
  line('vdc-c', 'quota.lease', day(1), { cpu: 1 }, new Date(Date.UTC(2025, 11, 30))), // ended before the period
];
const scope = { kind: 'platform' } as const;
const period = { from: day(1), to: new Date(Date.UTC(2026, 1, 15)) };
const asOf = period.to;
const sorted = [...lines].sort((a, b) => (a.vdcId < b.vdcId ? -1 : a.vdcId > b.vdcId ? 1 : a.start.getTime() - b.start.getTime()));

async function stream(kind: ReportKind, format: StreamFormat, source = sorted): Promise<string> {
  let out = '';
  async function* gen(): AsyncGenerator<ReportLedgerLine> {
    yield* source;
  }
  const summary = await streamReport({ kind, format, source: gen(), versions, scope, period, asOf, write: (c) => void (out += c) });
  expect(summary.bytes).toBe(Buffer.byteLength(out));
  return out;
}

describe('streaming reports', () => {
  it('JSON and CSV streamed from a sorted source equal the in-memory reports', async () => {
    const cb = chargeback(lines, versions, scope, period, asOf);
    const sb = showback(lines, versions, scope, period, asOf);
    expect(cb.invoices.map((i) => i.vdcId)).toEqual(['vdc-a', 'vdc-b']);
    expect(cb.priceBookVersions).toEqual([1, 2]);
    expect(JSON.parse(await stream('chargeback', 'json'))).toEqual(cb);
    expect(JSON.parse(await stream('showback', 'json'))).toEqual(sb);
    expect(await stream('chargeback', 'csv')).toBe(chargebackCsv(cb));
    expect(await stream('showback', 'csv')).toBe(showbackCsv(sb));
    // Rebuilt: the same bytes.
    expect(await stream('chargeback', 'json')).toBe(await stream('chargeback', 'json'));
  });

  it('refuses a source that is not sorted by VDC', async () => {
    await expect(stream('chargeback', 'csv', lines)).rejects.toThrow(/not sorted/);
  });

  it('an empty ledger still gives a well-formed report', async () => {
    expect(JSON.parse(await stream('chargeback', 'json', []))).toMatchObject({ kind: 'chargeback', invoices: [], totals: {}, priceBookVersions: [] });
    expect(await stream('showback', 'csv', [])).toBe('row,vdc_id,domain_id,pool,resource,unit,usage,currency,amount,ledger_lines\r\n');
  });
});

describe('PDF invoice', () => {
  it('is byte-identical when rebuilt and parses back to the invoice lines and totals', async () => {
    const january = { from: day(1), to: new Date(Date.UTC(2026, 1, 1)) };
    const r = chargeback(lines, versions, { kind: 'domain', id: 'dom' }, january, january.to);
    const [a, b] = [await renderReportPdf(r), await renderReportPdf(r)];
    expect(a.subarray(0, 5).toString()).toBe('%PDF-');
    expect(a.equals(b)).toBe(true);
    // The file id comes from the content: another report, another id.
    const other = await renderReportPdf(chargeback(lines.slice(0, 2), versions, { kind: 'domain', id: 'dom' }, january, january.to));
    const id = (pdf: Buffer): string => /\/ID \[<([0-9a-f]+)>/.exec(pdf.toString('latin1'))![1]!;
    expect(id(a)).not.toBe(id(other));

    const dir = mkdtempSync(join(tmpdir(), 'edgeport-pdf-'));
    try {
      writeFileSync(join(dir, 'r.pdf'), a);
      const text = execFileSync('pdftotext', ['-layout', join(dir, 'r.pdf'), '-'], { encoding: 'utf8' });
      const rows = text.split('\n').map((s) => s.trim().replace(/\s+/g, ' '));
      expect(rows).toContain('Edgeport chargeback invoice - domain dom');
      expect(rows).toContain(`Content SHA-256: ${reportHash(r)}`);
      expect(rows).toContain('Invoice: VDC vdc-a (domain dom)');
      expect(rows).toContain('Invoice: VDC vdc-b (domain dom)');
      // vdc-b: cpu 4 cores day 3 → day 20 = 408 h × 0.06 = 97.92; lease 2 × 48 h × 0.06 = 5.76.
      expect(rows).toContain('cpu p1 2026-01-03 00:00 - 2026-01-20 00:00 4.000000 1632.000000 core-hour 0.06 97.92 CNY');
      expect(rows).toContain('cpu p1 2026-01-10 00:00 - 2026-01-12 00:00 2.000000 96.000000 core-hour 0.06 5.76 CNY');
      // Every invoice line appears, every VDC total and the overall total match the report.
      for (const inv of r.invoices) {
        for (const l of inv.lines)
          expect(rows.some((row) => row.startsWith(`${l.resource} ${l.pool} ${l.from.slice(0, 10)}`) && row.endsWith(`${l.amount} CNY`))).toBe(true);
        expect(rows).toContain(`VDC total ${inv.totals.CNY} CNY`);
      }
      expect(rows).toContain(`Total CNY: ${r.totals.CNY}`);
      const sum = r.invoices.flatMap((i) => i.lines).reduce((s, l) => s + Math.round(Number(l.amount) * 100), 0);
      expect((sum / 100).toFixed(2)).toBe(r.totals.CNY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what-if repricing', () => {
  it('re-prices the period under the draft per VDC: doubling the cpu price adds exactly the cpu amounts', async () => {
    const january = { from: day(1), to: new Date(Date.UTC(2026, 1, 1)) };
    const draft = { ...book(9, '0000-01', '0.12'), version: 0 };
    async function* gen(): AsyncGenerator<ReportLedgerLine> {
      yield* sorted;
    }
    const r = await whatIf(gen(), versions, draft, january, january.to);
    const cb = chargeback(lines, versions, scope, january, january.to);
    expect(r.current).toEqual({ version: 1, total: cb.totals.CNY });
    expect(r.vdcs.map((v) => v.vdcId)).toEqual(['vdc-a', 'vdc-b']);
    for (const v of r.vdcs) {
      const inv = cb.invoices.find((i) => i.vdcId === v.vdcId)!;
      const cpu = inv.lines.filter((l) => l.resource === 'cpu').reduce((s, l) => s + Math.round(Number(l.amount) * 100), 0);
      expect(v.current).toBe(inv.totals.CNY);
      expect(Math.round(Number(v.delta) * 100)).toBe(cpu);
    }
  });
});
