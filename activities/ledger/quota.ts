import type { LedgerExtractors } from './history.ts';

type LedgerQuota = { cpu?: number; memoryGi?: number; pods?: number; storageGi?: number };

/** Result of the `applyQuota` activity; recorded in history, so the ledger can be rebuilt from it. */
export interface ApplyQuotaResult {
  vdcId: string;
  domainId: string;
  pool: string;
  /** The VDC's first namespace. */
  namespace: string;
  /** Every namespace the quota was applied to (absent in histories recorded before spaces were covered). */
  namespaces?: string[];
  /** The full quota in force after the apply (not only the changed resources). */
  quota: LedgerQuota;
  /**
   * What the allocation line bills when leases were in force at the apply: `quota` net of their increases
   * (each lease's own line bills its increase until it ends). Absent: `quota`.
   */
  billed?: LedgerQuota;
  /** The leases (ticket ids) `billed` is net of. */
  leases?: string[];
  appliedAt: string;
}

/** Result of `applyLeaseQuota`: the start of a lease. */
export interface LeaseApplyResult extends ApplyQuotaResult {
  /** The quota in force before the lease. */
  base: LedgerQuota;
  /** The increase the lease adds (what the lease line bills). */
  delta: LedgerQuota;
  /** When the lease is due to end. */
  endsAt: string;
}

/** Result of `revertLeaseQuota`: the end of a lease. */
export interface LeaseRevertResult {
  vdcId: string;
  namespaces: string[];
  /** The full quota in force after the revert. */
  quota: LedgerQuota;
  revertedAt: string;
}

export const QUOTA_UNITS = { cpu: 'core', memoryGi: 'GiB', pods: 'pod' } as const;

/**
 * Units of a quota line: cpu, memory and pods always (as every line written before storage was quota), the
 * storage quota's only when the line carries it, so lines rebuilt from older histories stay byte-identical.
 */
const unitsOf = (q: LedgerQuota): Record<string, string> => ({ ...QUOTA_UNITS, ...(q.storageGi !== undefined ? { storageGi: 'GiB' } : {}) });

/** The fact of a lease's increase, from its start until its revert. */
export const QUOTA_LEASE_FACT = 'quota.lease';

/**
 * The quota facts, by activity:
 * - each completed `applyQuota` is one `quota.allocation.changed` line (open-ended);
 * - each completed `applyLeaseQuota` is one `quota.lease` line billing the increase from the apply; once the
 *   following `revertLeaseQuota` has completed, the same line (same id) carries `end` = the revert time, so
 *   it covers exactly the leased interval.
 */
export const QUOTA_EXTRACTORS: LedgerExtractors = {
  applyQuota: (result, provenance) => {
    const r = result as ApplyQuotaResult;
    return [
      {
        ...provenance,
        units: unitsOf(r.billed ?? r.quota),
        fact: 'quota.allocation.changed',
        vdcId: r.vdcId,
        domainId: r.domainId,
        pool: r.pool,
        quantities: r.billed ?? r.quota,
        start: new Date(r.appliedAt),
      },
    ];
  },
  applyLeaseQuota: (result, provenance) => {
    const r = result as LeaseApplyResult;
    return [
      {
        ...provenance,
        units: unitsOf(r.delta),
        fact: QUOTA_LEASE_FACT,
        vdcId: r.vdcId,
        domainId: r.domainId,
        pool: r.pool,
        quantities: r.delta,
        start: new Date(r.appliedAt),
      },
    ];
  },
  revertLeaseQuota: (result, _provenance, run) => {
    const open = run.findLast((l) => l.fact === QUOTA_LEASE_FACT);
    if (open && open.end === undefined) open.end = new Date((result as LeaseRevertResult).revertedAt);
    return [];
  },
};
