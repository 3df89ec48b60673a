import type { Client } from '@temporalio/client';
import type { PriceBookInput, PriceBookVersion } from '../../common/billing.ts';
import type { AuditLog } from '../../common/audit.ts';
import type { Actor } from '../../common/roles.ts';
import type { Store } from '../../store/index.ts';
import type { PriceBookStore } from '../../store/pricebook.ts';
import { NotFoundError } from '../errors.ts';
import { chargeback, showback, type ChargebackReport, type Period, type ReportLedgerLine, type ReportScope, type ShowbackReport } from './billing-report.ts';
import { verifyLedger, type LedgerVerifyResult } from './ledger-verify.ts';

export interface BillingDeps {
  store: Store;
  priceBook: PriceBookStore;
  temporal: Client;
  audit: AuditLog;
}

/** Price book edits, showback/chargeback reports and ledger verification. */
export function billingService(deps: BillingDeps) {
  const { store, priceBook, audit } = deps;

  async function ledgerFor(scope: ReportScope): Promise<ReportLedgerLine[]> {
    // The chain of a VDC's quota lines starts before the period, so all of its lines are read.
    const lines = (await store.ledger.list(scope.kind === 'vdc' ? [scope.id] : 'all')) as ReportLedgerLine[];
    if (scope.kind === 'domain') return lines.filter((l) => l.domainId === scope.id);
    if (scope.kind === 'pool') return lines.filter((l) => l.pool === scope.id);
    return lines;
  }

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

    async report(kind: 'showback' | 'chargeback', scope: ReportScope, period: Period, asOf: Date): Promise<ShowbackReport | ChargebackReport> {
      const [lines, versions] = await Promise.all([ledgerFor(scope), priceBook.list()]);
      return kind === 'showback' ? showback(lines, versions, scope, period, asOf) : chargeback(lines, versions, scope, period, asOf);
    },

    verify: (vdcIds?: string[]): Promise<LedgerVerifyResult> => verifyLedger({ temporal: deps.temporal, storedLines: (ids) => store.ledger.list(ids) }, vdcIds ? { vdcIds } : {}),
  };
}
export type BillingService = ReturnType<typeof billingService>;
