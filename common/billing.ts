import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { Quota } from './tickets.ts';

/**
 * Billing contract: the price book, money arithmetic and the cost preview.
 *
 * Money rules (stated once, used everywhere):
 * - Currency: one per price book version (ISO 4217 code, default CNY), 2 minor digits.
 * - Unit prices are decimal strings with at most 6 fraction digits; quantities are decimals with at
 *   most 6 fraction digits. No floating point touches money: everything is integer (BigInt) arithmetic.
 * - A line's amount is computed exactly (quantity × unit price × duration ÷ unit duration) and rounded
 *   once, half away from zero, to the minor unit. Totals are sums of rounded line amounts.
 * - `…-hour` units bill by the millisecond; `…-month` units bill the fraction of the calendar month (UTC).
 */

export const PRICED_RESOURCES = ['cpu', 'memory', 'pods', 'storage', 'edgeNode', 'imageStorage', 'requestedCpu', 'requestedMemory'] as const;
export type PricedResource = (typeof PRICED_RESOURCES)[number];

/** The billing unit of each priced resource. */
export const PRICE_UNITS = {
  cpu: 'core-hour',
  memory: 'GiB-hour',
  pods: 'pod-hour',
  storage: 'GiB-month',
  edgeNode: 'node-hour',
  imageStorage: 'GiB-month',
  requestedCpu: 'core-hour',
  requestedMemory: 'GiB-hour',
} as const satisfies Record<PricedResource, string>;

/**
 * Which priced resource a quota quantity is billed as. The storage quota (`storageGi`) is a cap, not billed:
 * the volumes and claims inside it are billed as `storage` (GiB-month) by their own lines, so billing the cap
 * too would bill the same GiB twice.
 */
export const QUOTA_PRICED_AS = { cpu: 'cpu', memoryGi: 'memory', pods: 'pods' } as const satisfies Partial<Record<keyof Quota, PricedResource>>;

/**
 * Which priced resource a ledger quantity key is billed as (quota keys plus the keys of other facts,
 * e.g. `nodes` on a node-joined line). Keys not listed here are not billed.
 */
export const LEDGER_PRICED_AS: Readonly<Record<string, PricedResource>> = {
  ...QUOTA_PRICED_AS,
  nodes: 'edgeNode',
  storageGi: 'storage',
  imageStorageGi: 'imageStorage',
};

/**
 * Facts whose quantities are billed as other resources than {@link LEDGER_PRICED_AS} says. A workload's
 * cpu / memory requests are held inside the VDC's quota, which `quota.allocation.changed` lines already
 * bill: they are the resources `requestedCpu` / `requestedMemory`, which a price book leaves unpriced
 * (showback usage, amount 0) unless an operator prices them (then usually with quota cpu/memory at 0).
 * Their `storageGi` (claims the workload owns) is the `storage` resource: nothing else bills storage.
 */
export const FACT_PRICED_AS: Readonly<Record<string, Readonly<Record<string, PricedResource>>>> = {
  'workload.requests': { cpu: 'requestedCpu', memoryGi: 'requestedMemory', storageGi: 'storage' },
  // Quota lines carry the storage quota too (`storageGi`), which is a cap and not billed (see QUOTA_PRICED_AS).
  'quota.allocation.changed': QUOTA_PRICED_AS,
  'quota.lease': QUOTA_PRICED_AS,
};

/** Wildcard pool / architecture in a price entry. */
export const ANY = '*';

const SCALE = 1_000_000n;
const DECIMAL = /^(0|[1-9]\d{0,11})(\.\d{1,6})?$/;

export const DecimalString = z.string().regex(DECIMAL, 'a non-negative decimal with at most 6 fraction digits, e.g. "0.25"');
const Label = z.string().regex(/^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/, 'a DNS label or "*"');

export const PriceEntrySchema = z.strictObject({
  resource: z.enum(PRICED_RESOURCES),
  pool: Label.default(ANY),
  arch: Label.default(ANY),
  unitPrice: DecimalString,
});
export type PriceEntry = z.infer<typeof PriceEntrySchema>;

/** Body of `POST /api/pricebook`: a complete new version (it replaces, not patches, the previous one). */
export const PriceBookInputSchema = z
  .strictObject({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY')
      .default('CNY'),
    note: displayText({ max: 500, min: 0, multiline: true }).optional(),
    prices: z.array(PriceEntrySchema).min(1).max(1000),
  })
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.prices.forEach((p, i) => {
      const k = `${p.resource}/${p.pool}/${p.arch}`;
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['prices', i], message: `duplicate price for ${k}` });
      seen.add(k);
    });
  });
export type PriceBookInput = z.infer<typeof PriceBookInputSchema>;

/** One stored price book version. `effectiveFrom` is a billing month `YYYY-MM` (UTC). */
export interface PriceBookVersion {
  version: number;
  effectiveFrom: string;
  currency: string;
  minorDigits: 2;
  rounding: 'half-away-from-zero per line';
  note?: string;
  prices: PriceEntry[];
  createdBy: { sub: string; name: string };
  createdAt: string;
}

/** `YYYY-MM` of a UTC instant. */
export const monthOf = (d: Date): string => d.toISOString().slice(0, 7);

/** First instant of the month after `d` (UTC): where a version published at `d` takes effect. */
export function nextMonthStart(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** The version in force for a billing month: the highest version whose `effectiveFrom` is not after it. */
export function versionForMonth(versions: readonly PriceBookVersion[], month: string): PriceBookVersion | undefined {
  let best: PriceBookVersion | undefined;
  for (const v of versions) if (v.effectiveFrom <= month && (!best || v.version > best.version)) best = v;
  return best;
}

/** Most specific price: (pool, arch) → (pool, *) → (*, arch) → (*, *). */
export function unitPriceOf(book: PriceBookVersion, resource: PricedResource, pool: string, arch: string = ANY): string | undefined {
  for (const [p, a] of [
    [pool, arch],
    [pool, ANY],
    [ANY, arch],
    [ANY, ANY],
  ] as const) {
    const hit = book.prices.find((e) => e.resource === resource && e.pool === p && e.arch === a);
    if (hit) return hit.unitPrice;
  }
  return undefined;
}

/** A non-negative decimal (string or finite number) as an integer count of millionths. */
export function toMicros(v: string | number): bigint {
  const s = typeof v === 'number' ? numberToDecimal(v) : v;
  const m = DECIMAL.exec(s);
  if (!m) throw new RangeError(`not a decimal with at most 6 fraction digits: ${s}`);
  const frac = (m[2] ?? '.').slice(1).padEnd(6, '0');
  return BigInt(m[1]!) * SCALE + BigInt(frac);
}

function numberToDecimal(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`not a non-negative quantity: ${n}`);
  // Quantities come from zod-validated quotas; 6 fraction digits is the ledger's precision.
  return n.toFixed(6).replace(/\.?0+$/, '') || '0';
}

/** Millionths back to a fixed 6-digit decimal string, e.g. 1500000n → "1.500000". */
export function formatMicros(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / SCALE}.${(a % SCALE).toString().padStart(6, '0')}`;
}

/** Minor units (cents) to a fixed decimal string, e.g. -1234n → "-12.34". */
export function formatMinor(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}`;
}

/** num / den rounded half away from zero (den > 0). */
export function divRound(num: bigint, den: bigint): bigint {
  const neg = num < 0n;
  const a = neg ? -num : num;
  const q = (a * 2n + den) / (den * 2n);
  return neg ? -q : q;
}

export const HOUR_MS = 3_600_000n;

/** Milliseconds in the calendar month (UTC) containing `d`. */
export function monthMs(d: Date): bigint {
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return BigInt(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - start);
}

/**
 * Amount in minor units of `quantityMicros` of a resource held for `ms` milliseconds at `unitPrice`,
 * where the interval lies inside one calendar month starting at `monthStart`. Exact, one rounding.
 */
export function amountMinor(resource: PricedResource, quantityMicros: bigint, unitPrice: string, ms: bigint, monthStart: Date): bigint {
  const unitMs = PRICE_UNITS[resource].endsWith('-month') ? monthMs(monthStart) : HOUR_MS;
  // micros × micros → ×1e12; minor units → ×100.
  return divRound(quantityMicros * toMicros(unitPrice) * ms * 100n, SCALE * SCALE * unitMs);
}

/** One resource's row in a cost preview. */
export interface CostPreviewLine {
  resource: PricedResource;
  unit: string;
  current: string;
  proposed: string;
  unitPrice: string;
  /** Monthly cost difference in currency units, fixed 2 decimals, signed. */
  monthlyDelta: string;
}

export interface CostPreview {
  priceBookVersion: number | null;
  currency: string | null;
  /** The billing month the delta is computed for (its length matters for hourly units). */
  month: string;
  lines: CostPreviewLine[];
  monthlyDelta: string;
  /** Resources the change touches that have no price in the book (billed at 0 until priced). */
  unpriced: PricedResource[];
}

/**
 * Monthly cost delta of replacing quota `current` by `proposed` in `pool`, under the price book in force
 * for the month of `at` (a full calendar month held at the new level, minus the same at the old one).
 * Pure: the caller passes the price book versions and the time, so workflows and the API agree.
 */
export function costPreview(input: {
  current: Quota;
  proposed: Quota;
  pool: string;
  arch?: string;
  versions: readonly PriceBookVersion[];
  at: Date;
}): CostPreview {
  const month = monthOf(input.at);
  const book = versionForMonth(input.versions, month);
  const monthStart = new Date(`${month}-01T00:00:00.000Z`);
  const ms = monthMs(monthStart);
  const lines: CostPreviewLine[] = [];
  const unpriced: PricedResource[] = [];
  let total = 0n;
  for (const key of Object.keys(QUOTA_PRICED_AS) as (keyof typeof QUOTA_PRICED_AS)[]) {
    const cur = input.current[key] ?? 0;
    const next = input.proposed[key] ?? cur;
    if (cur === next) continue;
    const resource = QUOTA_PRICED_AS[key];
    const price = book ? unitPriceOf(book, resource, input.pool, input.arch) : undefined;
    if (price === undefined) unpriced.push(resource);
    const unitPrice = price ?? '0';
    const delta = amountMinor(resource, toMicros(next), unitPrice, ms, monthStart) - amountMinor(resource, toMicros(cur), unitPrice, ms, monthStart);
    total += delta;
    lines.push({
      resource,
      unit: PRICE_UNITS[resource],
      current: formatMicros(toMicros(cur)),
      proposed: formatMicros(toMicros(next)),
      unitPrice,
      monthlyDelta: formatMinor(delta),
    });
  }
  return { priceBookVersion: book?.version ?? null, currency: book?.currency ?? null, month, lines, monthlyDelta: formatMinor(total), unpriced };
}

/** One billable fact, keyed by its provenance in workflow history. */
export interface LedgerLine {
  _id: string;
  workflowId: string;
  runId: string;
  eventId: number;
  /** `quota.lease`: a temporary increase (`quantities` = the increase) over [start, end). */
  fact: 'quota.allocation.changed' | 'quota.lease' | 'node.joined' | 'image.storage' | 'workload.requests' | 'volume.storage';
  vdcId: string;
  domainId: string;
  pool: string;
  /**
   * CPU architecture the fact is priced for (`node.joined`: the node's, e.g. arm64); absent: any. The price
   * book prices per resource, pool and architecture.
   */
  arch?: string;
  /** What the fact is about besides the VDC (`node.joined`: the node's name; `workload.requests`, `volume.storage`: `namespace/name`). */
  subject?: string;
  /** `imageStorageGi`: an `image.storage` sample (GiB of the VDC's private images held over [start, end)). */
  quantities: Quota & { nodes?: number; imageStorageGi?: number; /** `workload.requests`: GiB of the claims the workload owns. */ storageGi?: number };
  units: Record<string, string>;
  start: Date;
  /** End of the interval (a lease's revert); absent while open. */
  end?: Date;
  createdAt: Date;
  /**
   * Set when finance or operations voided the line (`POST /api/ledger/lines/:id/void`): the line is kept,
   * billed by no report (listed as voided instead) and not part of any chain. Not derived from history.
   */
  voided?: LedgerVoid;
}

/** Body of `POST /api/ledger/voids`: the ledger line (`<workflowId>/<runId>/<eventId>`) and why it is voided. */
export const VoidLineBody = z.strictObject({
  lineId: z
    .string()
    .min(5)
    .max(400)
    .regex(/^[\x21-\x7e]+\/[0-9a-f-]{1,64}\/[0-9]{1,12}$/, 'a ledger line id: <workflowId>/<runId>/<eventId>'),
  reason: z.string().trim().min(3).max(500),
});

/** Who voided a ledger line, when and why. */
export interface LedgerVoid {
  by: { sub: string; name: string };
  at: Date;
  reason: string;
}

/**
 * Largest quantity a ledger line may carry for any key (cores, GiB, pods, nodes): a billion. Far above any
 * quota (`QUOTA_FIELDS` stop at a million) or volume (64 TiB = 65 536 GiB), far below where the 12 integer
 * digits of the decimal format end, so every stored quantity can be priced exactly.
 */
export const MAX_LEDGER_QUANTITY = 1_000_000_000;

/**
 * Largest amount of one priced report line, in minor units: 10^14 (a trillion in currency units). An amount
 * above it means a quantity or unit price that is wrong, not a bill; the report lists such a line under
 * `errors` instead of adding it to any total.
 */
export const MAX_LINE_AMOUNT_MINOR = 100_000_000_000_000n;

/** Why a quantity of a ledger line cannot be stored and priced exactly, or undefined when it can. */
export function ledgerQuantityProblem(key: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `quantity ${key} is not a finite number: ${String(v)}`;
  if (v < 0) return `quantity ${key} is negative: ${v}`;
  if (v > MAX_LEDGER_QUANTITY) return `quantity ${key} ${v} is above the ledger's bound ${MAX_LEDGER_QUANTITY}`;
  return undefined;
}

/** The first reason a ledger line cannot be written (a quantity out of bounds), or undefined when it can. */
export function ledgerLineProblem(line: Pick<LedgerLine, 'quantities'>): string | undefined {
  const q = line.quantities as Readonly<Record<string, unknown>>;
  if (!q || typeof q !== 'object') return 'quantities is not an object';
  for (const key of Object.keys(q).sort()) {
    const problem = ledgerQuantityProblem(key, q[key]);
    if (problem) return problem;
  }
  return undefined;
}

/** A ledger line a report could not price (a quantity or amount out of bounds): left out of every total, for finance to resolve. */
export interface ReportLineError {
  ledgerLineId: string;
  vdcId: string;
  domainId: string;
  pool: string;
  reason: string;
}

/** A voided ledger line in a report's scope: kept in the ledger, billed by no report. */
export interface ReportVoidedLine extends ReportLineError {
  by: string;
  at: string;
}
