import type { Client } from '@temporalio/client';
import { ledgerLinesFromHistory } from '../activities/ledger/index.ts';
import type { LedgerLine } from '../common/billing.ts';

/** One difference between the stored ledger and the ledger rebuilt from workflow histories. */
export type LedgerDifference =
  | { kind: 'missing'; id: string; expected: Record<string, unknown> }
  | { kind: 'extra'; id: string; stored: Record<string, unknown> }
  | { kind: 'changed'; id: string; fields: string[]; expected: Record<string, unknown>; stored: Record<string, unknown> };

export interface LedgerVerifyResult {
  ok: boolean;
  workflowsScanned: number;
  rebuiltLines: number;
  storedLines: number;
  differences: LedgerDifference[];
}

export interface LedgerVerifyDeps {
  temporal: Client;
  /** Stored lines (all, or those of the given VDCs). */
  storedLines(vdcIds: string[] | 'all'): Promise<LedgerLine[]>;
}

/** A line as comparable JSON: no `createdAt` (a write-time stamp) or `voided` (finance's mark, not history), dates as ISO strings, keys sorted. */
function canonical(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => k !== 'createdAt' && k !== 'voided' && o[k] !== undefined && o[k] !== null)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  }
  return v;
}

/**
 * Rebuilds the ledger from the histories of every workflow run (closed and open, listed through the
 * Temporal visibility API) with the same derivation the writers use, and diffs it with the stored
 * ledger line by line. With `vdcIds`, only lines of those VDCs are compared on both sides.
 * Read-only; safe to run at any time (a run still writing its line shows up as `missing` until it has).
 */
export async function verifyLedger(deps: LedgerVerifyDeps, opts: { vdcIds?: string[] } = {}): Promise<LedgerVerifyResult> {
  const keep = opts.vdcIds ? new Set(opts.vdcIds) : null;
  const expected = new Map<string, Record<string, unknown>>();
  let workflowsScanned = 0;
  for await (const wf of deps.temporal.workflow.list()) {
    workflowsScanned++;
    const history = await deps.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const line of ledgerLinesFromHistory(wf.workflowId, history)) {
      if (keep && !keep.has(line.vdcId)) continue;
      expected.set(line._id, canonical(line) as Record<string, unknown>);
    }
  }
  const stored = new Map<string, Record<string, unknown>>();
  for (const line of await deps.storedLines(opts.vdcIds ?? 'all')) stored.set(line._id, canonical(line) as Record<string, unknown>);

  const differences: LedgerDifference[] = [];
  for (const id of [...new Set([...expected.keys(), ...stored.keys()])].sort()) {
    const e = expected.get(id);
    const s = stored.get(id);
    if (e && !s) differences.push({ kind: 'missing', id, expected: e });
    else if (s && !e) differences.push({ kind: 'extra', id, stored: s });
    else if (e && s) {
      const fields = [...new Set([...Object.keys(e), ...Object.keys(s)])].filter((k) => JSON.stringify(e[k]) !== JSON.stringify(s[k])).sort();
      if (fields.length > 0) differences.push({ kind: 'changed', id, fields, expected: e, stored: s });
    }
  }
  return { ok: differences.length === 0, workflowsScanned, rebuiltLines: expected.size, storedLines: stored.size, differences };
}
