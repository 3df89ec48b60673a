import {
  amountMinor,
  divRound,
  formatMicros,
  formatMinor,
  HOUR_MS,
  monthMs,
  monthOf,
  nextMonthStart,
  PRICE_UNITS,
  PRICED_RESOURCES,
  LEDGER_PRICED_AS,
  toMicros,
  unitPriceOf,
  versionForMonth,
  type PricedResource,
  type PriceBookVersion,
} from '../../common/billing.ts';
import type { LedgerLineDoc } from '../../store/models.ts';

/**
 * Pure report building: ledger lines + price book versions + period → showback and chargeback.
 * Same inputs, same bytes: ordering is total, numbers have fixed digits, nothing reads the clock.
 *
 * Allocation semantics: a `quota.allocation.changed` line holds the VDC's full quota in its pool from its
 * `start` until the next such line of the same VDC and pool, or its own `end` when it has one, whichever
 * comes first. Every other fact (`quota.lease` increase, `node.joined`, …) is billed on its own over
 * [start, end), open-ended while it has no `end`. Nothing is billed past `asOf`. Intervals are split at month boundaries, each month priced by the price book
 * version in force for it.
 */

export type ReportScope = { kind: 'vdc'; id: string } | { kind: 'domain'; id: string } | { kind: 'pool'; id: string } | { kind: 'platform' };

export interface Period {
  from: Date;
  to: Date;
}

/** A stored ledger line as the report reads it (`end` is set on lease lines). */
export type ReportLedgerLine = Omit<LedgerLineDoc, 'createdAt'> & { end?: Date | null };

export interface InvoiceLine {
  vdcId: string;
  domainId: string;
  pool: string;
  resource: PricedResource;
  unit: string;
  quantity: string;
  from: string;
  to: string;
  usage: string;
  unitPrice: string | null;
  currency: string | null;
  priceBookVersion: number | null;
  amount: string;
  provenance: { ledgerLineId: string; workflowId: string; runId: string; eventId: number };
}

export interface Invoice {
  vdcId: string;
  domainId: string;
  lines: InvoiceLine[];
  totals: Record<string, string>;
}

export interface ShowbackRow {
  vdcId: string;
  domainId: string;
  pool: string;
  resource: PricedResource;
  unit: string;
  usage: string;
  currency: string | null;
  amount: string;
  ledgerLines: string[];
}

interface ReportHead {
  scope: ReportScope;
  period: { from: string; to: string };
  asOf: string;
  priceBookVersions: number[];
  rounding: string;
  totals: Record<string, string>;
}
export interface ChargebackReport extends ReportHead {
  kind: 'chargeback';
  invoices: Invoice[];
}
export interface ShowbackReport extends ReportHead {
  kind: 'showback';
  rows: ShowbackRow[];
}

const ROUNDING = 'exact per line, rounded half away from zero to 2 decimals; totals are sums of rounded lines';
const RESOURCE_ORDER = new Map(PRICED_RESOURCES.map((r, i) => [r, i]));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Priced {
  line: InvoiceLine;
  amountMinor: bigint;
  usageMicros: bigint;
}

function inScope(l: ReportLedgerLine, scope: ReportScope): boolean {
  if (scope.kind === 'vdc') return l.vdcId === scope.id;
  if (scope.kind === 'domain') return l.domainId === scope.id;
  if (scope.kind === 'pool') return l.pool === scope.id;
  return true;
}

function sumTotals(items: readonly { currency: string | null; amountMinor: bigint }[]): Record<string, string> {
  const by = new Map<string, bigint>();
  for (const i of items) {
    const c = i.currency ?? 'UNPRICED';
    by.set(c, (by.get(c) ?? 0n) + i.amountMinor);
  }
  return Object.fromEntries([...by.keys()].sort(cmp).map((c) => [c, formatMinor(by.get(c)!)]));
}

function priceLines(lines: readonly ReportLedgerLine[], versions: readonly PriceBookVersion[], scope: ReportScope, period: Period, asOf: Date): Priced[] {
  const stop = Math.min(period.to.getTime(), asOf.getTime());
  const chains = new Map<string, ReportLedgerLine[]>();
  for (const l of lines) {
    if (!inScope(l, scope)) continue;
    // Allocation lines chain per VDC and pool; every other line stands alone (additive).
    const k = l.fact === 'quota.allocation.changed' ? `${l.vdcId}\u0000${l.pool}` : `line\u0000${l._id}`;
    const chain = chains.get(k) ?? [];
    chain.push(l);
    chains.set(k, chain);
  }
  const out: Priced[] = [];
  for (const chain of chains.values()) {
    chain.sort((a, b) => a.start.getTime() - b.start.getTime() || cmp(a._id, b._id));
    chain.forEach((l, i) => {
      const next = chain[i + 1];
      let end = next ? next.start.getTime() : Infinity;
      if (l.end) end = Math.min(end, l.end.getTime());
      const from = Math.max(l.start.getTime(), period.from.getTime());
      const to = Math.min(end, stop);
      for (let s = from; s < to; ) {
        const monthStart = new Date(`${monthOf(new Date(s))}-01T00:00:00.000Z`);
        const e = Math.min(to, nextMonthStart(monthStart).getTime());
        const book = versionForMonth(versions, monthOf(monthStart));
        const quantities = l.quantities as Readonly<Record<string, number | null | undefined>>;
        for (const key of Object.keys(quantities).sort()) {
          const q = quantities[key];
          const resource = LEDGER_PRICED_AS[key];
          if (q === undefined || q === null || q === 0 || !resource) continue;
          const qty = toMicros(q);
          const ms = BigInt(e - s);
          const unitPrice = book ? (unitPriceOf(book, resource, l.pool) ?? null) : null;
          const unitMs = PRICE_UNITS[resource].endsWith('-month') ? monthMs(monthStart) : HOUR_MS;
          const usageMicros = divRound(qty * ms, unitMs);
          const amount = unitPrice === null ? 0n : amountMinor(resource, qty, unitPrice, ms, monthStart);
          out.push({
            amountMinor: amount,
            usageMicros,
            line: {
              vdcId: l.vdcId,
              domainId: l.domainId,
              pool: l.pool,
              resource,
              unit: PRICE_UNITS[resource],
              quantity: formatMicros(qty),
              from: new Date(s).toISOString(),
              to: new Date(e).toISOString(),
              usage: formatMicros(usageMicros),
              unitPrice,
              currency: unitPrice === null ? null : book!.currency,
              priceBookVersion: unitPrice === null ? null : book!.version,
              amount: formatMinor(amount),
              provenance: { ledgerLineId: l._id, workflowId: l.workflowId, runId: l.runId, eventId: l.eventId },
            },
          });
        }
        s = e;
      }
    });
  }
  out.sort(
    (a, b) =>
      cmp(a.line.vdcId, b.line.vdcId) ||
      cmp(a.line.from, b.line.from) ||
      cmp(a.line.pool, b.line.pool) ||
      RESOURCE_ORDER.get(a.line.resource)! - RESOURCE_ORDER.get(b.line.resource)! ||
      cmp(a.line.provenance.ledgerLineId, b.line.provenance.ledgerLineId),
  );
  return out;
}

function head(priced: readonly Priced[], scope: ReportScope, period: Period, asOf: Date): ReportHead {
  const used = [...new Set(priced.flatMap((p) => (p.line.priceBookVersion === null ? [] : [p.line.priceBookVersion])))].sort((a, b) => a - b);
  return {
    scope,
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    asOf: new Date(Math.min(asOf.getTime(), period.to.getTime())).toISOString(),
    priceBookVersions: used,
    rounding: ROUNDING,
    totals: sumTotals(priced.map((p) => ({ currency: p.line.currency, amountMinor: p.amountMinor }))),
  };
}

/** Invoice lines per VDC with per-VDC and overall totals. */
export function chargeback(lines: readonly ReportLedgerLine[], versions: readonly PriceBookVersion[], scope: ReportScope, period: Period, asOf: Date): ChargebackReport {
  const priced = priceLines(lines, versions, scope, period, asOf);
  const byVdc = new Map<string, Priced[]>();
  for (const p of priced) {
    const list = byVdc.get(p.line.vdcId);
    if (list) list.push(p);
    else byVdc.set(p.line.vdcId, [p]);
  }
  const invoices = [...byVdc.entries()].map(([vdcId, ps]) => ({
    vdcId,
    domainId: ps[0]!.line.domainId,
    lines: ps.map((p) => p.line),
    totals: sumTotals(ps.map((p) => ({ currency: p.line.currency, amountMinor: p.amountMinor }))),
  }));
  return { kind: 'chargeback', ...head(priced, scope, period, asOf), invoices };
}

/** Usage and cost per VDC, pool and resource, with the ledger lines each row comes from. */
export function showback(lines: readonly ReportLedgerLine[], versions: readonly PriceBookVersion[], scope: ReportScope, period: Period, asOf: Date): ShowbackReport {
  const priced = priceLines(lines, versions, scope, period, asOf);
  const rows = new Map<string, { row: ShowbackRow; usage: bigint; amount: bigint; ids: Set<string> }>();
  for (const p of priced) {
    const l = p.line;
    const k = [l.vdcId, l.pool, l.resource, l.currency ?? ''].join('\u0000');
    const r = rows.get(k) ?? { row: { vdcId: l.vdcId, domainId: l.domainId, pool: l.pool, resource: l.resource, unit: l.unit, usage: '', currency: l.currency, amount: '', ledgerLines: [] }, usage: 0n, amount: 0n, ids: new Set<string>() };
    r.usage += p.usageMicros;
    r.amount += p.amountMinor;
    r.ids.add(l.provenance.ledgerLineId);
    rows.set(k, r);
  }
  const out = [...rows.values()]
    .map((r) => ({ ...r.row, usage: formatMicros(r.usage), amount: formatMinor(r.amount), ledgerLines: [...r.ids].sort(cmp) }))
    .sort((a, b) => cmp(a.vdcId, b.vdcId) || cmp(a.pool, b.pool) || RESOURCE_ORDER.get(a.resource)! - RESOURCE_ORDER.get(b.resource)! || cmp(a.currency ?? '', b.currency ?? ''));
  return { kind: 'showback', ...head(priced, scope, period, asOf), rows: out };
}

const csvField = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvRow = (fields: readonly (string | number | null)[]): string => `${fields.map(csvField).join(',')}\r\n`;

/** RFC 4180 CSV (CRLF line ends); one row per invoice line, then per-VDC and overall totals. */
export function chargebackCsv(r: ChargebackReport): string {
  let out = csvRow(['row', 'vdc_id', 'domain_id', 'pool', 'resource', 'unit', 'quantity', 'from', 'to', 'usage', 'unit_price', 'currency', 'price_book_version', 'amount', 'workflow_id', 'run_id', 'event_id']);
  for (const inv of r.invoices) {
    for (const l of inv.lines) {
      out += csvRow(['line', l.vdcId, l.domainId, l.pool, l.resource, l.unit, l.quantity, l.from, l.to, l.usage, l.unitPrice, l.currency, l.priceBookVersion, l.amount, l.provenance.workflowId, l.provenance.runId, l.provenance.eventId]);
    }
    for (const [c, a] of Object.entries(inv.totals)) out += csvRow(['vdc-total', inv.vdcId, inv.domainId, '', '', '', '', r.period.from, r.period.to, '', '', c, '', a, '', '', '']);
  }
  for (const [c, a] of Object.entries(r.totals)) out += csvRow(['total', '', '', '', '', '', '', r.period.from, r.period.to, '', '', c, '', a, '', '', '']);
  return out;
}

/** RFC 4180 CSV of the showback rows and overall totals; `ledger_lines` lists the source line ids. */
export function showbackCsv(r: ShowbackReport): string {
  let out = csvRow(['row', 'vdc_id', 'domain_id', 'pool', 'resource', 'unit', 'usage', 'currency', 'amount', 'ledger_lines']);
  for (const row of r.rows) out += csvRow(['usage', row.vdcId, row.domainId, row.pool, row.resource, row.unit, row.usage, row.currency, row.amount, row.ledgerLines.join(' ')]);
  for (const [c, a] of Object.entries(r.totals)) out += csvRow(['total', '', '', '', '', '', '', c, a, '']);
  return out;
}
