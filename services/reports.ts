import type { PriceBookInput, PriceBookVersion } from '../common/billing.ts';
import type { Store } from '../store/index.ts';
import type { PriceBookStore } from '../store/pricebook.ts';
import type { ReportFilter } from '../store/ledger.ts';
import {
  collectReport,
  streamReport,
  whatIf,
  type WhatIfResult,
  type Period,
  type Report,
  type ReportKind,
  type ReportLedgerLine,
  type ReportScope,
  type StreamFormat,
  type StreamReportOptions,
  type StreamReportSummary,
} from './billing-report.ts';

/**
 * Showback/chargeback reports over the stored ledger and price book: the part of billing the API and the
 * report-job worker share (the worker has no Temporal client or audit log to hand).
 */
export function reportService(deps: { store: Store; priceBook: PriceBookStore }) {
  const { store, priceBook } = deps;
  /** A label scope with the VDCs carrying the label now (the report names them, so it says what it covers). */
  async function resolve(scope: ReportScope): Promise<ReportScope> {
    return scope.kind === 'label' ? { kind: 'label', key: scope.key, value: scope.value, vdcIds: await store.vdcs.withLabel(scope.key, scope.value) } : scope;
  }
  /** The (resolved) scope's ledger lines, streamed in report order. */
  function source(scope: ReportScope): AsyncIterable<ReportLedgerLine> {
    return store.ledger.reportCursor(filterOf(scope));
  }
  function filterOf(scope: ReportScope): ReportFilter {
    if (scope.kind === 'vdc') return { vdcIds: [scope.id] };
    if (scope.kind === 'label') return { vdcIds: scope.vdcIds ?? [] };
    if (scope.kind === 'domain') return { domainId: scope.id };
    if (scope.kind === 'pool') return { pool: scope.id };
    return {};
  }
  return {
    /** The whole report as one object (small scopes, the PDF). */
    async report(kind: ReportKind, scope: ReportScope, period: Period, asOf: Date): Promise<Report> {
      const resolved = await resolve(scope);
      return collectReport(kind, source(resolved), await priceBook.list(), resolved, period, asOf);
    },

    /** Streams the report as JSON or CSV to `write`, one VDC in memory at a time. */
    async streamReport(
      kind: ReportKind,
      format: StreamFormat,
      scope: ReportScope,
      period: Period,
      asOf: Date,
      write: StreamReportOptions['write'],
      progress?: StreamReportOptions['progress'],
    ): Promise<StreamReportSummary> {
      const versions = await priceBook.list();
      const resolved = await resolve(scope);
      return streamReport({ kind, format, source: source(resolved), versions, scope: resolved, period, asOf, write, ...(progress ? { progress } : {}) });
    },

    /**
     * What-if repricing: the period over the whole platform ledger under the versions in force and under
     * `draft` (as if in force for the whole period), per VDC. The API's billing service first checks that the draft's currency is the current one.
     */
    async whatIf(draftInput: PriceBookInput, period: Period, asOf: Date): Promise<WhatIfResult> {
      const versions = await priceBook.list();
      const draft: PriceBookVersion = {
        version: 0,
        effectiveFrom: '0000-01',
        currency: draftInput.currency,
        minorDigits: 2,
        rounding: 'half-away-from-zero per line',
        prices: draftInput.prices,
        createdBy: { sub: 'what-if', name: 'what-if' },
        createdAt: new Date(0).toISOString(),
      };
      return whatIf(source({ kind: 'platform' }), versions, draft, period, asOf);
    },

    /** How many ledger lines a report of the scope reads (for progress). */
    async countLines(scope: ReportScope): Promise<number> {
      return store.ledger.count(filterOf(await resolve(scope)));
    },
  };
}
export type ReportService = ReturnType<typeof reportService>;
