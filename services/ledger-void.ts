import type { AuditLog } from '../common/audit.ts';
import type { LedgerLine } from '../common/billing.ts';
import type { Actor } from '../common/roles.ts';
import type { Store } from '../store/index.ts';

/** A voided ledger line as the API and the CLI return it. */
export type VoidedLedgerLine = Omit<LedgerLine, 'createdAt' | 'units'>;

export type VoidOutcome = { outcome: 'voided'; line: VoidedLedgerLine } | { outcome: 'not-found' } | { outcome: 'already-voided'; line: VoidedLedgerLine };

/**
 * The one path that voids a ledger line, shared by `POST /api/ledger/lines/:id/void` and `tsx api/cli.ts ledger
 * void`: the line is kept (never deleted), marked with who, when and why, and from then on billed by no
 * report (reports list it under `voided`); the void is appended to the audit log (`ledger.void`). A second
 * void of the same line changes nothing. `verify` ignores the mark: the line still matches its history.
 */
export async function voidLedgerLine(deps: { store: Store; audit: AuditLog }, actor: Actor, id: string, reason: string, ip?: string): Promise<VoidOutcome> {
  const before = await deps.store.ledger.get(id);
  if (!before) return { outcome: 'not-found' };
  const strip = ({ createdAt: _c, units: _u, ...rest }: LedgerLine): VoidedLedgerLine => rest;
  if (before.voided) return { outcome: 'already-voided', line: strip(before) };
  const line = await deps.store.ledger.void(id, { by: { sub: actor.sub, name: actor.name }, at: new Date(), reason });
  if (!line) return { outcome: 'already-voided', line: strip((await deps.store.ledger.get(id)) ?? before) };
  await deps.audit.append({
    actor,
    action: 'ledger.void',
    target: `vdc:${line.vdcId}/ledger:${id}`,
    outcome: 'success',
    details: { reason, fact: line.fact, pool: line.pool, quantities: line.quantities },
    ...(ip ? { ip } : {}),
  });
  return { outcome: 'voided', line: strip(line) };
}
