import { describe, expect, it } from 'vitest';
import type { PriceBookVersion } from '../common/billing.ts';
import { chargeback, showback, type ReportLedgerLine } from './billing-report.ts';

/**
 * `workload.requests` lines in reports: each holds one workload's requests until the next line of the same
 * workload (a zero line closes it), chained per subject like quota allocation lines per pool; cpu / memory
 * are the unpriced showback resources `requestedCpu` / `requestedMemory`, storage is priced as `storage`.
 */
const book: PriceBookVersion = {
  version: 1,
  effectiveFrom: '2026-01',
  currency: 'CNY',
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  prices: [
    { resource: 'cpu', pool: '*', arch: '*', unitPrice: '0.1' },
    { resource: 'memory', pool: '*', arch: '*', unitPrice: '0.01' },
    { resource: 'storage', pool: '*', arch: '*', unitPrice: '31' },
  ],
  createdBy: { sub: 'u-ops', name: 'Olga Ops' },
  createdAt: '2025-12-01T00:00:00.000Z',
};
const hour = (h: number): Date => new Date(Date.UTC(2026, 0, 1, h));
let n = 0;
const line = (subject: string, start: Date, quantities: ReportLedgerLine['quantities']): ReportLedgerLine => {
  n++;
  return {
    _id: `op-${n}/run/${n}`,
    workflowId: `op-${n}`,
    runId: 'run',
    eventId: n,
    fact: 'workload.requests',
    vdcId: 'vdc-w',
    domainId: 'dom',
    pool: 'p1',
    subject,
    quantities,
    start,
  };
};
// web: deploy 1 replica (0.1 cpu) with a 2 GiB claim at 0h, scale to 3 at 10h, stop at 20h, delete at 30h; db runs alongside.
const lines = [
  line('ns/web', hour(0), { cpu: 0.1, memoryGi: 0.0625, storageGi: 2 }),
  line('ns/db', hour(5), { cpu: 1, memoryGi: 1, storageGi: 0 }),
  line('ns/web', hour(10), { cpu: 0.3, memoryGi: 0.1875, storageGi: 2 }),
  line('ns/web', hour(20), { cpu: 0, memoryGi: 0, storageGi: 2 }),
  line('ns/web', hour(30), { cpu: 0, memoryGi: 0, storageGi: 0 }),
].sort((a, b) => a.start.getTime() - b.start.getTime());
const period = { from: hour(0), to: hour(40) };

describe('workload.requests in reports', () => {
  it('chains per workload: each line holds until the next of the same subject; a zero line closes it', () => {
    const r = showback(lines, [book], { kind: 'vdc', id: 'vdc-w' }, period, period.to);
    const row = (resource: string) => r.rows.find((x) => x.resource === resource);
    // web: 0.1 × 10 h + 0.3 × 10 h = 4 core-hours; db: 1 × 35 h.
    expect(row('requestedCpu')).toMatchObject({ unit: 'core-hour', usage: '39.000000', amount: '0.00', currency: null });
    expect(row('requestedMemory')).toMatchObject({ unit: 'GiB-hour', usage: '37.500000', currency: null });
    // storage: 2 GiB over 30 h of a 744 h month at 31 per GiB-month, as three 10 h lines each rounded (0.83).
    expect(row('storage')).toMatchObject({ unit: 'GiB-month', usage: '0.080646', currency: 'CNY', amount: '2.49' });
    // Quota cpu / memory prices do not apply to requests (the quota line bills them).
    expect(r.rows.map((x) => x.resource).sort()).toEqual(['requestedCpu', 'requestedMemory', 'storage']);
  });

  it('invoice lines name the ledger line each interval comes from', () => {
    const r = chargeback(lines, [book], { kind: 'vdc', id: 'vdc-w' }, period, period.to);
    const cpu = r.invoices[0]!.lines.filter((l) => l.resource === 'requestedCpu').map(
      (l) => `${l.provenance.workflowId} ${l.quantity} ${l.from.slice(11, 13)}-${l.to.slice(11, 13)}`,
    );
    expect(cpu).toEqual(['op-1 0.100000 00-10', 'op-2 1.000000 05-16', 'op-3 0.300000 10-20']);
    expect(r.totals).toEqual({ CNY: '2.49', UNPRICED: '0.00' });
  });
});
