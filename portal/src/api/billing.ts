import type { PriceBookInput, PriceBookVersion, ReportLineError, ReportVoidedLine } from '@common/billing';

export type { ReportLineError, ReportVoidedLine };
import { http, request } from './http.ts';

/**
 * Billing and reports (`api/routes/billing.ts`, background jobs per the reports contract). The report
 * shapes mirror `services/billing-report.ts` (server code the portal cannot import).
 */

export type ReportScopeKind = 'vdc' | 'domain' | 'pool' | 'platform' | 'label';
export type ReportKind = 'showback' | 'chargeback';

export interface InvoiceLine {
  vdcId: string;
  domainId: string;
  pool: string;
  /** Present when the ledger line has an architecture (node-hours of an arm64 node). */
  arch?: string;
  resource: string;
  unit: string;
  quantity: string;
  from: string;
  to: string;
  usage: string;
  unitPrice: string | null;
  currency: string | null;
  priceBookVersion: number | null;
  amount: string;
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
  resource: string;
  unit: string;
  usage: string;
  currency: string | null;
  amount: string;
}
interface ReportHead {
  period: { from: string; to: string };
  asOf: string;
  priceBookVersions: number[];
  rounding: string;
  totals: Record<string, string>;
  /** Absent in report files built before lines could fail. */
  errors?: ReportLineError[];
  voided?: ReportVoidedLine[];
}
export type Report = (ReportHead & { kind: 'chargeback'; invoices: Invoice[] }) | (ReportHead & { kind: 'showback'; rows: ShowbackRow[] });

/** A report's period: a calendar month or a half-open day range. */
export type PeriodQuery = { month: string } | { from: string; to: string };

export interface ReportTarget {
  scope: ReportScopeKind;
  /** vdc / domain / pool id; `key=value` for a label. */
  id?: string;
}

const enc = encodeURIComponent;

/** The synchronous report route of a scope, without the query. */
export function reportPath(target: ReportTarget): string {
  switch (target.scope) {
    case 'vdc':
      return `/api/reports/vdcs/${enc(target.id ?? '')}`;
    case 'domain':
      return `/api/reports/domains/${enc(target.id ?? '')}`;
    case 'pool':
      return `/api/reports/pools/${enc(target.id ?? '')}`;
    case 'label': {
      const [key = '', value = ''] = (target.id ?? '').split('=');
      return `/api/reports/labels/${enc(key)}/${enc(value)}`;
    }
    default:
      return '/api/reports/platform';
  }
}

function periodParams(period: PeriodQuery): Record<string, string> {
  return 'month' in period ? { month: period.month } : { from: period.from, to: period.to };
}

/** The period's bounds as instants (month: its calendar month, UTC). */
export function periodBounds(period: PeriodQuery): { from: Date; to: Date } {
  if ('from' in period) return { from: new Date(`${period.from}T00:00:00Z`), to: new Date(`${period.to}T00:00:00Z`) };
  const from = new Date(`${period.month}-01T00:00:00Z`);
  return { from, to: new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)) };
}

/**
 * `asOf` for a period still under way: now, to the minute (the API's default is the last full hour,
 * which hides what happened this hour). Closed periods use the API default (their end).
 */
export function liveAsOf(period: PeriodQuery, now = new Date()): string | undefined {
  const { from, to } = periodBounds(period);
  if (now <= from || now >= to) return undefined;
  return new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString();
}

/** Quiet: report views render their own error state. */
export function getReport(target: ReportTarget, period: PeriodQuery, kind: ReportKind): Promise<Report> {
  return http.get(reportPath(target), { query: { ...periodParams(period), kind, asOf: liveAsOf(period) }, quiet: true });
}

/** Voids a ledger line (kept, billed by no report; audited). Finance and operations admins (`ledger:void`). */
export function voidLedgerLine(lineId: string, reason: string): Promise<unknown> {
  return http.post('/api/ledger/voids', { lineId, reason });
}

/** A download link of the synchronous report (the browser follows it with the session cookie). */
export function reportDownloadUrl(target: ReportTarget, period: PeriodQuery, kind: ReportKind, format: 'csv' | 'pdf'): string {
  return `${reportPath(target)}?${new URLSearchParams({ ...periodParams(period), kind, format }).toString()}`;
}

export function listPriceBook(): Promise<{ items: PriceBookVersion[] }> {
  return http.get('/api/pricebook', { quiet: true });
}

export interface WhatIfResult {
  current: { version: number | null; total: string };
  draft: { total: string };
  vdcs: { vdcId: string; current: string; draft: string; delta: string }[];
  currency: string;
}

export function whatIf(body: { from: string; to: string; draft: PriceBookInput }): Promise<WhatIfResult> {
  return request('/api/pricebook/what-if', { method: 'POST', body, quiet: [404] });
}

export interface ReportJobRequest {
  scope: ReportScopeKind;
  id?: string;
  label?: string;
  from: string;
  to: string;
  kind: ReportKind;
  format: 'json' | 'csv' | 'pdf';
}
export interface ReportJob {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  progress: number;
  error?: string;
  downloadUrl?: string;
  request: ReportJobRequest;
}

export function startReportJob(body: ReportJobRequest): Promise<ReportJob> {
  return request('/api/reports/jobs', { method: 'POST', body, quiet: [404] });
}

export function getReportJob(id: string): Promise<ReportJob> {
  return http.get(`/api/reports/jobs/${enc(id)}`, { quiet: true });
}

/** Sum of a report's lines per VDC (both kinds), in currency units. */
export function amountsByVdc(report: Report): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, v: string) => out.set(k, (out.get(k) ?? 0) + Number(v));
  if (report.kind === 'chargeback') for (const inv of report.invoices) for (const l of inv.lines) add(l.vdcId, l.amount);
  else for (const r of report.rows) add(r.vdcId, r.amount);
  return out;
}

/** Sum of a report's lines per resource. */
export function amountsByResource(report: Report): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, v: string) => out.set(k, (out.get(k) ?? 0) + Number(v));
  if (report.kind === 'chargeback') for (const inv of report.invoices) for (const l of inv.lines) add(l.resource, l.amount);
  else for (const r of report.rows) add(r.resource, r.amount);
  return out;
}

/** `YYYY-MM` of now (UTC), the billing month. */
export function currentMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/** "CNY 12.34 · USD 1.00" of a totals record; "—" when empty. */
export function formatTotals(totals: Record<string, string>): string {
  const parts = Object.entries(totals).map(([c, a]) => `${c} ${a}`);
  return parts.length > 0 ? parts.join(' · ') : '—';
}
