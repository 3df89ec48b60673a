import type { Client } from '@temporalio/client';
import { monthOf, versionForMonth, type PriceBookInput, type PriceBookVersion } from '../../common/billing.ts';
import type { AuditLog } from '../../common/audit.ts';
import type { Actor } from '../../common/roles.ts';
import type { Store } from '../../store/index.ts';
import type { PriceBookStore } from '../../store/pricebook.ts';
import type { LedgerVerification } from '../../store/ledger-verifications.ts';
import { ConflictError, InputError, NotFoundError } from '../errors.ts';
import type { WhatIfResult, Period } from '../../services/billing-report.ts';
import { reportService } from '../../services/reports.ts';
import { verifyLedger, type LedgerVerifyResult } from '../../services/ledger-verify.ts';
import { voidLedgerLine, type VoidedLedgerLine } from '../../services/ledger-void.ts';

export interface BillingDeps {
  store: Store;
  priceBook: PriceBookStore;
  temporal: Client;
  audit: AuditLog;
}

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

    /** What-if repricing (see reportService); the draft's currency must be the current one. */
    async whatIf(draftInput: PriceBookInput, period: Period, asOf: Date): Promise<WhatIfResult> {
      const inForce = versionForMonth(await priceBook.list(), monthOf(period.from));
      if (inForce && inForce.currency !== draftInput.currency)
        throw new InputError(`invalid request: draft.currency: must be ${inForce.currency}, the current price book's currency`, [
          { field: 'draft.currency', message: `must be ${inForce.currency}` },
        ]);
      return reports.whatIf(draftInput, period, asOf);
    },

    /**
     * Voids one ledger line (kept, billed by no report, listed as voided) and audits it (`ledger.void`).
     * @throws NotFoundError when there is no such line; ConflictError when it is voided already
     */
    async voidLine(actor: Actor, id: string, reason: string, ip?: string): Promise<VoidedLedgerLine> {
      const r = await voidLedgerLine({ store, audit }, actor, id, reason, ip);
      if (r.outcome === 'not-found') throw new NotFoundError(`no ledger line ${id}`);
      if (r.outcome === 'already-voided') throw new ConflictError(`ledger line ${id} was voided already (${r.line.voided?.reason ?? ''})`);
      return r.line;
    },

    /** The stored runs of the scheduled ledger verify, newest first. */
    verifications: (limit: number): Promise<LedgerVerification[]> => store.ledgerVerifications.list(limit),
    verify: (vdcIds?: string[]): Promise<LedgerVerifyResult> =>
      verifyLedger({ temporal: deps.temporal, storedLines: (ids) => store.ledger.list(ids) }, vdcIds ? { vdcIds } : {}),
  };
}
export type BillingService = ReturnType<typeof billingService>;
