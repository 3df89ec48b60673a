import {
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
  FACT_PRICED_AS,
  MAX_LINE_AMOUNT_MINOR,
  toMicros,
  unitPriceOf,
  versionForMonth,
  type PricedResource,
  type PriceBookVersion,
  type LedgerLine,
  type ReportLineError,
  type ReportVoidedLine,
} from '../common/billing.ts';

export type { ReportLineError, ReportVoidedLine };

/**
 * Report building: ledger lines + price book versions + period → showback and chargeback.
 * Same inputs, same bytes: ordering is total, numbers have fixed digits, nothing reads the clock.
 *
 * Allocation semantics: a `quota.allocation.changed` line holds the VDC's full quota in its pool from its
 * `start` until the next such line of the same VDC and pool, or its own `end` when it has one, whichever
 * comes first. A `workload.requests` line holds one workload's requests the same way until the next line of
 * the same VDC, pool and subject (`namespace/name`); a delete writes one with zero quantities. Every other fact (`quota.lease` increase, `node.joined`, …) is billed on its own over
 * [start, end), open-ended while it has no `end`. Nothing is billed past `asOf`. Intervals are split at month
 * boundaries, each month priced by the price book version in force for it.
 *
 * Streaming: reports are built one VDC at a time from a source sorted by (vdcId, start, _id) — a database
 * cursor in production — and written out incrementally, so memory is bounded by the largest single VDC's
 * lines, not by the ledger. Every output order has vdcId as its first key, so per-VDC building yields the
 * same bytes as building the whole report at once.
 */

export type ReportScope =
  | { kind: 'vdc'; id: string }
  | { kind: 'domain'; id: string }
  | { kind: 'pool'; id: string }
  | {
      kind: 'label';
      key: string;
      value: string;
      /** The VDCs carrying the label when the report was built (filled in by the report service). */ vdcIds?: string[];
    }
  | { kind: 'platform' };

export interface Period {
  from: Date;
  to: Date;
}

/** A stored ledger line as the report reads it (`end` is set on lease lines). */
export type ReportLedgerLine = Pick<
  LedgerLine,
  '_id' | 'workflowId' | 'runId' | 'eventId' | 'fact' | 'vdcId' | 'domainId' | 'pool' | 'quantities' | 'start' | 'subject'
> & { end?: Date | null; arch?: string | null; voided?: LedgerLine['voided'] | null };

/** The chain a line belongs to (each line holds until the next of its chain), or undefined for a line that stands alone. */
function chainOf(l: ReportLedgerLine): string | undefined {
  if (l.fact === 'quota.allocation.changed') return `${l.fact}\u0000${l.pool}`;
  if (l.fact === 'workload.requests' || l.fact === 'volume.storage') return `${l.fact}\u0000${l.pool}\u0000${l.subject ?? ''}`;
  return undefined;
}

export interface InvoiceLine {
  vdcId: string;
  domainId: string;
  pool: string;
  /** The ledger line's architecture when it has one (node-hours of an arm64 node); priced with it. */
  arch?: string;
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

export type ReportKind = 'showback' | 'chargeback';

/** What is known before the first line is read. */
export interface ReportHead {
  scope: ReportScope;
  period: { from: string; to: string };
  asOf: string;
  rounding: string;
}
/** What is known only after the last line: written last by the streaming writers. */
export interface ReportTail {
  priceBookVersions: number[];
  totals: Record<string, string>;
  /** Lines that could not be priced (sorted by VDC and line id); the report still renders every other line. */
  errors: ReportLineError[];
  /** Voided lines in scope (sorted by VDC and line id), billed by nothing. */
  voided: ReportVoidedLine[];
}
export interface ChargebackReport extends ReportHead, ReportTail {
  kind: 'chargeback';
  invoices: Invoice[];
}
export interface ShowbackReport extends ReportHead, ReportTail {
  kind: 'showback';
  rows: ShowbackRow[];
}
export type Report = ChargebackReport | ShowbackReport;

const ROUNDING = 'exact per line, rounded half away from zero to 2 decimals; totals are sums of rounded lines';
const RESOURCE_ORDER = new Map(PRICED_RESOURCES.map((r, i) => [r, i]));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const SCALE2 = 1_000_000n * 1_000_000n;

interface Priced {
  line: InvoiceLine;
  amountMinor: bigint;
  usageMicros: bigint;
}

interface MonthSlot {
  start: number;
  end: number;
  book: PriceBookVersion | undefined;
  monthMs: bigint;
}

function addTotal(by: Map<string, bigint>, currency: string | null, amount: bigint): void {
  const c = currency ?? 'UNPRICED';
  by.set(c, (by.get(c) ?? 0n) + amount);
}
const formatTotals = (by: ReadonlyMap<string, bigint>): Record<string, string> =>
  Object.fromEntries([...by.keys()].sort(cmp).map((c) => [c, formatMinor(by.get(c)!)]));

/**
 * Prices the lines of one VDC at a time and keeps the running totals of the whole report. Caches unit
 * prices and quantities (the hot path of a million-line report); the arithmetic is `amountMinor`'s exactly.
 */
export class ReportBuilder {
  readonly head: ReportHead;
  private readonly slots: MonthSlot[] = [];
  private readonly stop: number;
  private readonly prices = new Map<string, { text: string; micros: bigint } | null>();
  private readonly qty = new Map<number, bigint>();
  private readonly totals = new Map<string, bigint>();
  private readonly versionsUsed = new Set<number>();
  private readonly errors = new Map<string, ReportLineError>();
  private readonly voided = new Map<string, ReportVoidedLine>();
  vdcs = 0;
  lines = 0;

  constructor(
    readonly kind: ReportKind,
    versions: readonly PriceBookVersion[],
    readonly scope: ReportScope,
    period: Period,
    asOf: Date,
  ) {
    this.stop = Math.min(period.to.getTime(), asOf.getTime());
    for (let s = period.from.getTime(); s < this.stop;) {
      const monthStart = new Date(`${monthOf(new Date(s))}-01T00:00:00.000Z`);
      const next = nextMonthStart(monthStart).getTime();
      this.slots.push({ start: monthStart.getTime(), end: next, book: versionForMonth(versions, monthOf(monthStart)), monthMs: monthMs(monthStart) });
      s = next;
    }
    this.head = {
      scope,
      period: { from: period.from.toISOString(), to: period.to.toISOString() },
      asOf: new Date(Math.min(asOf.getTime(), period.to.getTime())).toISOString(),
      rounding: ROUNDING,
    };
    this.periodFrom = period.from.getTime();
  }
  private readonly periodFrom: number;

  private priceOf(book: PriceBookVersion, resource: PricedResource, pool: string, arch: string | undefined): { text: string; micros: bigint } | null {
    const k = `${book.version}\u0000${resource}\u0000${pool}\u0000${arch ?? ''}`;
    let p = this.prices.get(k);
    if (p === undefined) {
      const text = unitPriceOf(book, resource, pool, arch);
      p = text === undefined ? null : { text, micros: toMicros(text) };
      this.prices.set(k, p);
    }
    return p;
  }

  private micros(q: number): bigint {
    let m = this.qty.get(q);
    if (m === undefined) {
      m = toMicros(q);
      this.qty.set(q, m);
    }
    return m;
  }

  /** Invoice lines of one VDC's ledger lines (any order), sorted; adds them to the report totals. */
  private priceVdc(lines: readonly ReportLedgerLine[]): Priced[] {
    const out: Priced[] = [];
    // Allocation lines chain per pool, workload lines per workload (each holds until the next); every other line stands alone (additive).
    const chains = new Map<string, ReportLedgerLine[]>();
    for (const l of lines) {
      if (l.voided) {
        this.voided.set(l._id, {
          ledgerLineId: l._id,
          vdcId: l.vdcId,
          domainId: l.domainId,
          pool: l.pool,
          reason: l.voided.reason,
          by: l.voided.by.name,
          at: new Date(l.voided.at).toISOString(),
        });
        continue;
      }
      const key = chainOf(l);
      if (key !== undefined) {
        const chain = chains.get(key);
        if (chain) chain.push(l);
        else chains.set(key, [l]);
      } else this.priceInterval(l, l.start.getTime(), l.end ? l.end.getTime() : Infinity, out);
    }
    for (const chain of chains.values()) {
      chain.sort((a, b) => a.start.getTime() - b.start.getTime() || cmp(a._id, b._id));
      for (let i = 0; i < chain.length; i++) {
        const l = chain[i]!;
        const next = chain[i + 1];
        let end = next ? next.start.getTime() : Infinity;
        if (l.end) end = Math.min(end, l.end.getTime());
        this.priceInterval(l, l.start.getTime(), end, out);
      }
    }
    out.sort(
      (a, b) =>
        cmp(a.line.from, b.line.from) ||
        cmp(a.line.pool, b.line.pool) ||
        RESOURCE_ORDER.get(a.line.resource)! - RESOURCE_ORDER.get(b.line.resource)! ||
        cmp(a.line.provenance.ledgerLineId, b.line.provenance.ledgerLineId),
    );
    this.vdcs++;
    this.lines += lines.length;
    return out;
  }

  /**
   * Prices line `l` held over [start, end), clipped to the period and `asOf`, split per month. A line that
   * cannot be priced (a quantity that is no bounded decimal, an amount above `MAX_LINE_AMOUNT_MINOR`) adds
   * nothing to `out` or the totals and is recorded under `errors` instead: one bad line never fails a report.
   */
  private priceInterval(l: ReportLedgerLine, start: number, end: number, out: Priced[]): void {
    const from = Math.max(start, this.periodFrom);
    const to = Math.min(end, this.stop);
    if (from >= to) return;
    const priced: Priced[] = [];
    try {
      this.priceLine(l, from, to, priced);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (!this.errors.has(l._id)) this.errors.set(l._id, { ledgerLineId: l._id, vdcId: l.vdcId, domainId: l.domainId, pool: l.pool, reason });
      return;
    }
    for (const p of priced) {
      out.push(p);
      addTotal(this.totals, p.line.currency, p.amountMinor);
      if (p.line.priceBookVersion !== null) this.versionsUsed.add(p.line.priceBookVersion);
    }
  }

  /** The priced pieces of line `l` over [from, to) (already clipped). @throws RangeError when a quantity or amount is out of bounds */
  private priceLine(l: ReportLedgerLine, from: number, to: number, out: Priced[]): void {
    const quantities = l.quantities as Readonly<Record<string, number | null | undefined>>;
    const keys = Object.keys(quantities).sort();
    const pricedAs = FACT_PRICED_AS[l.fact] ?? LEDGER_PRICED_AS;
    for (const slot of this.slots) {
      const s = Math.max(from, slot.start);
      const e = Math.min(to, slot.end);
      if (s >= e) continue;
      const fromIso = new Date(s).toISOString();
      const toIso = new Date(e).toISOString();
      const ms = BigInt(e - s);
      for (const key of keys) {
        const q = quantities[key];
        const resource = pricedAs[key];
        if (q === undefined || q === null || q === 0 || !resource) continue;
        const qty = this.micros(q);
        const price = slot.book ? this.priceOf(slot.book, resource, l.pool, l.arch ?? undefined) : null;
        const unitMs = PRICE_UNITS[resource].endsWith('-month') ? slot.monthMs : HOUR_MS;
        const usageMicros = divRound(qty * ms, unitMs);
        // Same formula as `amountMinor`: micros × micros → ×1e12; minor units → ×100.
        const amount = price === null ? 0n : divRound(qty * price.micros * ms * 100n, SCALE2 * unitMs);
        if (amount > MAX_LINE_AMOUNT_MINOR)
          throw new RangeError(`amount ${formatMinor(amount)} of ${key} is above the bound ${formatMinor(MAX_LINE_AMOUNT_MINOR)} of one line`);
        const currency = price === null ? null : slot.book!.currency;
        const version = price === null ? null : slot.book!.version;
        out.push({
          amountMinor: amount,
          usageMicros,
          line: {
            vdcId: l.vdcId,
            domainId: l.domainId,
            pool: l.pool,
            ...(l.arch ? { arch: l.arch } : {}),
            resource,
            unit: PRICE_UNITS[resource],
            quantity: formatMicros(qty),
            from: fromIso,
            to: toIso,
            usage: formatMicros(usageMicros),
            unitPrice: price?.text ?? null,
            currency,
            priceBookVersion: version,
            amount: formatMinor(amount),
            provenance: { ledgerLineId: l._id, workflowId: l.workflowId, runId: l.runId, eventId: l.eventId },
          },
        });
      }
    }
  }

  /** The amount (minor units) of one VDC's lines in `currency`. */
  amountMinor(lines: readonly ReportLedgerLine[], currency: string): bigint {
    let sum = 0n;
    for (const p of this.priceVdc(lines)) if (p.line.currency === currency) sum += p.amountMinor;
    return sum;
  }

  /** The invoice of one VDC (all its lines), or null when nothing in the period is billed. */
  invoice(lines: readonly ReportLedgerLine[]): Invoice | null {
    const priced = this.priceVdc(lines);
    if (priced.length === 0) return null;
    const totals = new Map<string, bigint>();
    for (const p of priced) addTotal(totals, p.line.currency, p.amountMinor);
    return { vdcId: priced[0]!.line.vdcId, domainId: priced[0]!.line.domainId, lines: priced.map((p) => p.line), totals: formatTotals(totals) };
  }

  /** The showback rows of one VDC (all its lines): usage and cost per pool, resource and currency. */
  showbackRows(lines: readonly ReportLedgerLine[]): ShowbackRow[] {
    const rows = new Map<string, { row: ShowbackRow; usage: bigint; amount: bigint; ids: Set<string> }>();
    for (const p of this.priceVdc(lines)) {
      const l = p.line;
      const k = [l.pool, l.resource, l.currency ?? ''].join('\u0000');
      let r = rows.get(k);
      if (!r) {
        r = {
          row: {
            vdcId: l.vdcId,
            domainId: l.domainId,
            pool: l.pool,
            resource: l.resource,
            unit: l.unit,
            usage: '',
            currency: l.currency,
            amount: '',
            ledgerLines: [],
          },
          usage: 0n,
          amount: 0n,
          ids: new Set<string>(),
        };
        rows.set(k, r);
      }
      r.usage += p.usageMicros;
      r.amount += p.amountMinor;
      r.ids.add(l.provenance.ledgerLineId);
    }
    return [...rows.values()]
      .map((r) => ({ ...r.row, usage: formatMicros(r.usage), amount: formatMinor(r.amount), ledgerLines: [...r.ids].sort(cmp) }))
      .sort((a, b) => cmp(a.pool, b.pool) || RESOURCE_ORDER.get(a.resource)! - RESOURCE_ORDER.get(b.resource)! || cmp(a.currency ?? '', b.currency ?? ''));
  }

  tail(): ReportTail {
    const byLine = <T extends { vdcId: string; ledgerLineId: string }>(a: T, b: T): number => cmp(a.vdcId, b.vdcId) || cmp(a.ledgerLineId, b.ledgerLineId);
    return {
      priceBookVersions: [...this.versionsUsed].sort((a, b) => a - b),
      totals: formatTotals(this.totals),
      errors: [...this.errors.values()].sort(byLine),
      voided: [...this.voided.values()].sort(byLine),
    };
  }
}

/** Groups a source sorted by vdcId into one array per VDC. @throws Error when the source is not sorted */
export async function* byVdc(source: AsyncIterable<ReportLedgerLine> | Iterable<ReportLedgerLine>): AsyncGenerator<ReportLedgerLine[]> {
  let batch: ReportLedgerLine[] = [];
  for await (const l of source) {
    const last = batch[batch.length - 1];
    if (last && last.vdcId !== l.vdcId) {
      if (l.vdcId < last.vdcId) throw new Error('ledger source is not sorted by vdcId');
      yield batch;
      batch = [];
    }
    batch.push(l);
  }
  if (batch.length > 0) yield batch;
}

const sortedForReport = (lines: readonly ReportLedgerLine[]): ReportLedgerLine[] =>
  [...lines].sort((a, b) => cmp(a.vdcId, b.vdcId) || a.start.getTime() - b.start.getTime() || cmp(a._id, b._id));

function* byVdcSync(lines: readonly ReportLedgerLine[]): Generator<ReportLedgerLine[]> {
  let batch: ReportLedgerLine[] = [];
  for (const l of sortedForReport(lines)) {
    if (batch.length > 0 && batch[0]!.vdcId !== l.vdcId) {
      yield batch;
      batch = [];
    }
    batch.push(l);
  }
  if (batch.length > 0) yield batch;
}

/** Invoice lines per VDC with per-VDC and overall totals (in memory; the lines must already be in scope). */
export function chargeback(
  lines: readonly ReportLedgerLine[],
  versions: readonly PriceBookVersion[],
  scope: ReportScope,
  period: Period,
  asOf: Date,
): ChargebackReport {
  const b = new ReportBuilder('chargeback', versions, scope, period, asOf);
  const invoices: Invoice[] = [];
  for (const batch of byVdcSync(lines)) {
    const inv = b.invoice(batch);
    if (inv) invoices.push(inv);
  }
  return { kind: 'chargeback', ...b.head, ...b.tail(), invoices };
}

/** Usage and cost per VDC, pool and resource, with the ledger lines each row comes from (in memory). */
export function showback(
  lines: readonly ReportLedgerLine[],
  versions: readonly PriceBookVersion[],
  scope: ReportScope,
  period: Period,
  asOf: Date,
): ShowbackReport {
  const b = new ReportBuilder('showback', versions, scope, period, asOf);
  const rows: ShowbackRow[] = [];
  for (const batch of byVdcSync(lines)) rows.push(...b.showbackRows(batch));
  return { kind: 'showback', ...b.head, ...b.tail(), rows };
}

export interface WhatIfResult {
  current: { version: number | null; total: string };
  draft: { total: string };
  vdcs: { vdcId: string; current: string; draft: string; delta: string }[];
  currency: string;
}

/**
 * Re-prices a period under a draft price book (applied to the whole period, as if in force throughout)
 * beside the versions actually in force, per VDC, in one pass over a sorted source. Amounts are in the
 * one currency of the comparison; lines without a price count as 0.
 */
export async function whatIf(
  source: AsyncIterable<ReportLedgerLine>,
  versions: readonly PriceBookVersion[],
  draft: PriceBookVersion,
  period: Period,
  asOf: Date,
): Promise<WhatIfResult> {
  const scope: ReportScope = { kind: 'platform' };
  const cur = new ReportBuilder('chargeback', versions, scope, period, asOf);
  const dra = new ReportBuilder('chargeback', [draft], scope, period, asOf);
  const currency = draft.currency;
  const vdcs: WhatIfResult['vdcs'] = [];
  let totalCur = 0n;
  let totalDraft = 0n;
  for await (const batch of byVdc(source)) {
    const a = cur.amountMinor(batch, currency);
    const b = dra.amountMinor(batch, currency);
    totalCur += a;
    totalDraft += b;
    if (a !== 0n || b !== 0n) vdcs.push({ vdcId: batch[0]!.vdcId, current: formatMinor(a), draft: formatMinor(b), delta: formatMinor(b - a) });
  }
  const used = cur.tail().priceBookVersions;
  return {
    current: { version: used.length > 0 ? used[used.length - 1]! : null, total: formatMinor(totalCur) },
    draft: { total: formatMinor(totalDraft) },
    vdcs,
    currency,
  };
}

/** The whole report as an object, read from a sorted source (for the PDF, whose file id hashes the content). */
export async function collectReport(
  kind: ReportKind,
  source: AsyncIterable<ReportLedgerLine>,
  versions: readonly PriceBookVersion[],
  scope: ReportScope,
  period: Period,
  asOf: Date,
): Promise<Report> {
  const b = new ReportBuilder(kind, versions, scope, period, asOf);
  const invoices: Invoice[] = [];
  const rows: ShowbackRow[] = [];
  for await (const batch of byVdc(source)) {
    if (kind === 'showback') rows.push(...b.showbackRows(batch));
    else {
      const inv = b.invoice(batch);
      if (inv) invoices.push(inv);
    }
  }
  return kind === 'showback' ? { kind, ...b.head, ...b.tail(), rows } : { kind, ...b.head, ...b.tail(), invoices };
}

const csvField = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvRow = (fields: readonly (string | number | null)[]): string => `${fields.map(csvField).join(',')}\r\n`;

const CHARGEBACK_CSV_HEADER = [
  'row',
  'vdc_id',
  'domain_id',
  'pool',
  'arch',
  'resource',
  'unit',
  'quantity',
  'from',
  'to',
  'usage',
  'unit_price',
  'currency',
  'price_book_version',
  'amount',
  'workflow_id',
  'run_id',
  'event_id',
];
const SHOWBACK_CSV_HEADER = ['row', 'vdc_id', 'domain_id', 'pool', 'resource', 'unit', 'usage', 'currency', 'amount', 'ledger_lines'];

function invoiceCsv(inv: Invoice, period: { from: string; to: string }): string {
  let out = '';
  for (const l of inv.lines) {
    out += csvRow([
      'line',
      l.vdcId,
      l.domainId,
      l.pool,
      l.arch ?? '',
      l.resource,
      l.unit,
      l.quantity,
      l.from,
      l.to,
      l.usage,
      l.unitPrice,
      l.currency,
      l.priceBookVersion,
      l.amount,
      l.provenance.workflowId,
      l.provenance.runId,
      l.provenance.eventId,
    ]);
  }
  for (const [c, a] of Object.entries(inv.totals))
    out += csvRow(['vdc-total', inv.vdcId, inv.domainId, '', '', '', '', '', period.from, period.to, '', '', c, '', a, '', '', '']);
  return out;
}
const chargebackCsvTotals = (totals: Record<string, string>, period: { from: string; to: string }): string =>
  Object.entries(totals)
    .map(([c, a]) => csvRow(['total', '', '', '', '', '', '', '', period.from, period.to, '', '', c, '', a, '', '', '']))
    .join('');
const showbackCsvRows = (rows: readonly ShowbackRow[]): string =>
  rows
    .map((row) => csvRow(['usage', row.vdcId, row.domainId, row.pool, row.resource, row.unit, row.usage, row.currency, row.amount, row.ledgerLines.join(' ')]))
    .join('');
const showbackCsvTotals = (totals: Record<string, string>): string =>
  Object.entries(totals)
    .map(([c, a]) => csvRow(['total', '', '', '', '', '', '', c, a, '']))
    .join('');

/** `wf/run/event` → its three provenance columns (a workflow id never holds `/`'s the last two parts do). */
function provenanceOf(ledgerLineId: string): [string, string, string] {
  const event = ledgerLineId.slice(ledgerLineId.lastIndexOf('/') + 1);
  const rest = ledgerLineId.slice(0, ledgerLineId.lastIndexOf('/'));
  return [rest.slice(0, rest.lastIndexOf('/')), rest.slice(rest.lastIndexOf('/') + 1), event];
}

/**
 * Rows after the totals for the lines no total holds: `error` (could not be priced) and `voided`. The reason
 * is in the `unit` column; the line is named by `workflow_id,run_id,event_id` (chargeback) or `ledger_lines` (showback).
 */
function unbilledCsv(kind: ReportKind, tail: Pick<ReportTail, 'errors' | 'voided'>): string {
  // Free text (a void reason) never starts a spreadsheet formula.
  const text = (t: string): string => (/^[=+\-@\t\r]/.test(t) ? `'${t}` : t);
  const rows = [
    ...tail.errors.map((e) => ({ row: 'error', ...e, note: text(e.reason) })),
    ...tail.voided.map((v) => ({ row: 'voided', ...v, note: text(`${v.reason} (voided by ${v.by} at ${v.at})`) })),
  ];
  return rows
    .map((e) =>
      kind === 'chargeback'
        ? csvRow([e.row, e.vdcId, e.domainId, e.pool, '', '', e.note, '', '', '', '', '', '', '', '', ...provenanceOf(e.ledgerLineId)])
        : csvRow([e.row, e.vdcId, e.domainId, e.pool, '', e.note, '', '', '', e.ledgerLineId]),
    )
    .join('');
}

/** RFC 4180 CSV (CRLF line ends); one row per invoice line, then per-VDC and overall totals, then error and voided lines. */
export function chargebackCsv(r: ChargebackReport): string {
  return (
    csvRow(CHARGEBACK_CSV_HEADER) +
    r.invoices.map((inv) => invoiceCsv(inv, r.period)).join('') +
    chargebackCsvTotals(r.totals, r.period) +
    unbilledCsv('chargeback', r)
  );
}

/** RFC 4180 CSV of the showback rows and overall totals, then error and voided lines; `ledger_lines` lists the source line ids. */
export function showbackCsv(r: ShowbackReport): string {
  return csvRow(SHOWBACK_CSV_HEADER) + showbackCsvRows(r.rows) + showbackCsvTotals(r.totals) + unbilledCsv('showback', r);
}

export type StreamFormat = 'json' | 'csv';

export interface StreamReportOptions {
  kind: ReportKind;
  format: StreamFormat;
  /** Ledger lines in scope, sorted by (vdcId, start, _id). */
  source: AsyncIterable<ReportLedgerLine>;
  versions: readonly PriceBookVersion[];
  scope: ReportScope;
  period: Period;
  asOf: Date;
  /** Receives the output in order, in chunks of about 64 KiB; awaited (backpressure). */
  write: (chunk: string) => void | Promise<void>;
  /** Called after each VDC with the number of ledger lines read so far. */
  progress?: (linesRead: number) => void | Promise<void>;
}

export interface StreamReportSummary extends ReportTail {
  vdcs: number;
  ledgerLines: number;
  bytes: number;
}

const FLUSH_AT = 64 * 1024;

/**
 * Builds a report from a sorted source and writes it out as it goes: one VDC in memory at a time.
 * JSON puts `priceBookVersions` and `totals` after the invoices/rows (they are known only at the end); the
 * object is otherwise the one `chargeback` / `showback` return. CSV is exactly `chargebackCsv` / `showbackCsv`.
 */
export async function streamReport(o: StreamReportOptions): Promise<StreamReportSummary> {
  const b = new ReportBuilder(o.kind, o.versions, o.scope, o.period, o.asOf);
  let buf = '';
  let bytes = 0;
  const emit = async (s: string, force = false): Promise<void> => {
    buf += s;
    if (buf.length >= FLUSH_AT || (force && buf.length > 0)) {
      const chunk = buf;
      buf = '';
      bytes += Buffer.byteLength(chunk);
      await o.write(chunk);
    }
  };
  const json = o.format === 'json';
  const { scope, period, asOf, rounding } = b.head;
  if (json)
    await emit(
      `{"kind":${JSON.stringify(o.kind)},"scope":${JSON.stringify(scope)},"period":${JSON.stringify(period)},"asOf":${JSON.stringify(asOf)},"rounding":${JSON.stringify(rounding)},"${o.kind === 'chargeback' ? 'invoices' : 'rows'}":[`,
    );
  else await emit(csvRow(o.kind === 'chargeback' ? CHARGEBACK_CSV_HEADER : SHOWBACK_CSV_HEADER));
  let first = true;
  for await (const batch of byVdc(o.source)) {
    if (o.kind === 'chargeback') {
      const inv = b.invoice(batch);
      if (inv) await emit(json ? `${first ? '' : ','}${JSON.stringify(inv)}` : invoiceCsv(inv, period));
      if (inv) first = false;
    } else {
      const rows = b.showbackRows(batch);
      if (rows.length > 0) await emit(json ? `${first ? '' : ','}${rows.map((r) => JSON.stringify(r)).join(',')}` : showbackCsvRows(rows));
      if (rows.length > 0) first = false;
    }
    await o.progress?.(b.lines);
  }
  const tail = b.tail();
  if (json)
    await emit(
      `],"priceBookVersions":${JSON.stringify(tail.priceBookVersions)},"totals":${JSON.stringify(tail.totals)},"errors":${JSON.stringify(tail.errors)},"voided":${JSON.stringify(tail.voided)}}`,
      true,
    );
  else await emit((o.kind === 'chargeback' ? chargebackCsvTotals(tail.totals, period) : showbackCsvTotals(tail.totals)) + unbilledCsv(o.kind, tail), true);
  return { ...tail, vdcs: b.vdcs, ledgerLines: b.lines, bytes };
}
