import type { Client } from '@temporalio/client';
import { monthOf, versionForMonth, type PriceBookInput, type PriceBookVersion } from '../../common/billing.ts';
import type { AuditLog } from '../../common/audit.ts';
import type { Actor } from '../../common/roles.ts';
import type { Store } from '../../store/index.ts';
import type { PriceBookStore } from '../../store/pricebook.ts';
import type { ReportFilter } from '../../store/ledger.ts';
import type { LedgerVerification } from '../../store/ledger-verifications.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { collectReport, streamReport, whatIf, type WhatIfResult, type Period, type Report, type ReportKind, type ReportLedgerLine, type ReportScope, type StreamFormat, type StreamReportOptions, type StreamReportSummary } from './billing-report.ts';
import { verifyLedger, type LedgerVerifyResult } from './ledger-verify.ts';

export interface BillingDeps {
  store: Store;
  priceBook: PriceBookStore;
  temporal: Client;
  audit: AuditLog;
}

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
    async streamReport(kind: ReportKind, format: StreamFormat, scope: ReportScope, period: Period, asOf: Date, write: StreamReportOptions['write'], progress?: StreamReportOptions['progress']): Promise<StreamReportSummary> {
      const versions = await priceBook.list();
      const resolved = await resolve(scope);
      return streamReport({ kind, format, source: source(resolved), versions, scope: resolved, period, asOf, write, ...(progress ? { progress } : {}) });
    },

    /**
     * What-if repricing: the period over the whole platform ledger under the versions in force and under
     * `draft` (as if in force for the whole period), per VDC. The draft's currency must be the current one.
     */
    async whatIf(draftInput: PriceBookInput, period: Period, asOf: Date): Promise<WhatIfResult> {
      const versions = await priceBook.list();
      const inForce = versionForMonth(versions, monthOf(period.from));
      if (inForce && inForce.currency !== draftInput.currency) throw new InputError(`invalid request: draft.currency: must be ${inForce.currency}, the current price book's currency`, [{ field: 'draft.currency', message: `must be ${inForce.currency}` }]);
      const draft: PriceBookVersion = { version: 0, effectiveFrom: '0000-01', currency: draftInput.currency, minorDigits: 2, rounding: 'half-away-from-zero per line', prices: draftInput.prices, createdBy: { sub: 'what-if', name: 'what-if' }, createdAt: new Date(0).toISOString() };
      return whatIf(source({ kind: 'platform' }), versions, draft, period, asOf);
    },

    /** How many ledger lines a report of the scope reads (for progress). */
    async countLines(scope: ReportScope): Promise<number> {
      return store.ledger.count(filterOf(await resolve(scope)));
    },
  };
}
export type ReportService = ReturnType<typeof reportService>;

/** Price book edits, showback/chargeback reports and ledger verification. */
export function billingService(deps: BillingDeps) {
  const { store, priceBook, audit } = deps;
  const reports = reportService(deps);

  return {
    async vdcScope(id: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await store.vdcs.get(id);
      if (!vdc) throw new NotFoundError(`VDC ${id} not found`);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },
    async domainScope(id: string): Promise<{ domainId: string }> {
      if (!(await store.domains.get(id))) throw new NotFoundError(`domain ${id} not found`);
      return { domainId: id };
    },

    listPriceBook: (): Promise<PriceBookVersion[]> => priceBook.list(),

    /** Publishes a new version (effective from next month) and audits it; fails if it cannot be audited. */
    async publishPriceBook(actor: Actor, input: PriceBookInput, ip?: string): Promise<PriceBookVersion> {
      const v = await priceBook.publish(input, actor, new Date());
      await audit.append({
        actor,
        action: 'pricebook.publish',
        target: `pricebook:v${v.version}`,
        outcome: 'success',
        details: { version: v.version, effectiveFrom: v.effectiveFrom, currency: v.currency, entries: v.prices.length },
        ...(ip ? { ip } : {}),
      });
      return v;
    },

    ...reports,

    /** The stored runs of the scheduled ledger verify, newest first. */
    verifications: (limit: number): Promise<LedgerVerification[]> => store.ledgerVerifications.list(limit),
    verify: (vdcIds?: string[]): Promise<LedgerVerifyResult> => verifyLedger({ temporal: deps.temporal, storedLines: (ids) => store.ledger.list(ids) }, vdcIds ? { vdcIds } : {}),
  };
}
export type BillingService = ReturnType<typeof billingService>;
