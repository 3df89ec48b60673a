import type { PriceBookInput, PriceBookVersion } from '../common/billing.ts';
import { ledgerLineId } from '../store/ledger.ts';
import type { LedgerLine } from '../common/billing.ts';

/** Synthetic billing data shared by the bench's database and in-memory modes: the same lines either way. */

export const YEAR = 2025;
/** The month the bench reports on (the last of the generated year, so every line is read). */
export const MONTH = `${YEAR}-12`;
const YEAR_START = Date.UTC(YEAR, 0, 1);
const YEAR_MS = Date.UTC(YEAR + 1, 0, 1) - YEAR_START;
const HOUR = 3_600_000;
export const TICKETS_PER_VDC = 100;
export const BENCH_ACTOR = { sub: 'bench', name: 'Billing bench' };

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const V1: PriceBookInput = {
  currency: 'CNY',
  prices: [
    { resource: 'cpu', pool: '*', arch: '*', unitPrice: '0.05' },
    { resource: 'cpu', pool: 'pool-1', arch: '*', unitPrice: '0.06' },
    { resource: 'memory', pool: '*', arch: '*', unitPrice: '0.01' },
    { resource: 'pods', pool: '*', arch: '*', unitPrice: '0.001' },
    { resource: 'edgeNode', pool: '*', arch: '*', unitPrice: '0.5' },
  ],
};
export const V2: PriceBookInput = { ...V1, prices: V1.prices.map((p) => (p.resource === 'cpu' ? { ...p, unitPrice: p.pool === '*' ? '0.055' : '0.065' } : p)) };
/** When V1 and V2 are published (so they apply from 2025-01 and 2025-07). */
export const PUBLISHED = [new Date(Date.UTC(YEAR - 1, 11, 1)), new Date(Date.UTC(YEAR, 5, 10))] as const;

/** The versions as the price book store returns them after publishing V1 and V2 at PUBLISHED. */
export const benchVersions = (): PriceBookVersion[] =>
  [V1, V2].map((v, i) => ({
    version: i + 1,
    effectiveFrom: i === 0 ? `${YEAR}-01` : `${YEAR}-07`,
    currency: v.currency,
    minorDigits: 2,
    rounding: 'half-away-from-zero per line',
    prices: v.prices.map((p) => ({ resource: p.resource, pool: p.pool, arch: p.arch, unitPrice: p.unitPrice })),
    createdBy: BENCH_ACTOR,
    createdAt: PUBLISHED[i]!.toISOString(),
  }));

export const vdcIdOf = (v: number): string => `vdc-${String(v).padStart(4, '0')}`;
export const domainOf = (v: number): string => `dom-${Math.floor(v / 10)}`;

/**
 * The ledger lines of VDC `v` in start order (as a report reads them; no units/subject): `perVdc` lines from TICKETS_PER_VDC tickets,
 * starting uniformly over the year; 30 % quota allocation changes, 50 % leases of 1–72 h, 20 % node joins
 * (half of them still joined).
 */
export function benchVdcLines(v: number, perVdc: number): Omit<LedgerLine, 'createdAt' | 'units' | 'subject'>[] {
  const rand = rng(42 + v);
  const vdcId = vdcIdOf(v);
  const domainId = domainOf(v);
  const pool = `pool-${v % 3}`;
  // Starts drawn first and sorted numerically, so the lines come out in (start, _id) order without a sort.
  const starts = new Float64Array(perVdc);
  for (let i = 0; i < perVdc; i++) starts[i] = YEAR_START + Math.floor(rand() * YEAR_MS);
  starts.sort();
  const out: Omit<LedgerLine, 'createdAt' | 'units' | 'subject'>[] = new Array(perVdc);
  for (let i = 0; i < perVdc; i++) {
    const workflowId = `t-${v}-${Math.floor((i * TICKETS_PER_VDC) / perVdc)}`;
    const eventId = 10 + i;
    const startMs = starts[i]!;
    const start = new Date(startMs);
    const _id = ledgerLineId(workflowId, 'run-1', eventId);
    const r = rand();
    if (r < 0.3) {
      out[i] = {
        _id,
        workflowId,
        runId: 'run-1',
        eventId,
        fact: 'quota.allocation.changed',
        vdcId,
        domainId,
        pool,
        quantities: { cpu: 1 + Math.floor(rand() * 32), memoryGi: 2 + Math.floor(rand() * 64), pods: 10 + Math.floor(rand() * 100) },
        start,
      };
    } else if (r < 0.8) {
      const quantities = rand() < 0.5 ? { cpu: 1 + Math.floor(rand() * 4) } : { memoryGi: 1 + Math.floor(rand() * 8) };
      out[i] = {
        _id,
        workflowId,
        runId: 'run-1',
        eventId,
        fact: 'quota.lease',
        vdcId,
        domainId,
        pool,
        quantities,
        start,
        end: new Date(startMs + (1 + Math.floor(rand() * 72)) * HOUR),
      };
    } else {
      const ended = rand() < 0.5;
      const line = { _id, workflowId, runId: 'run-1', eventId, fact: 'node.joined' as const, vdcId, domainId, pool, quantities: { nodes: 1 }, start };
      out[i] = ended ? { ...line, end: new Date(startMs + (1 + Math.floor(rand() * 30)) * 24 * HOUR) } : line;
    }
  }
  return out;
}

/** The units a stored line of `fact` carries (the database mode stores complete lines). */
export const unitsOf = (fact: LedgerLine['fact']): Record<string, string> =>
  fact === 'node.joined' ? { nodes: 'node' } : { cpu: 'core', memoryGi: 'GiB', pods: 'pod' };
