import { Schema, type Connection, type Model } from 'mongoose';
import { monthOf, nextMonthStart, type PriceBookInput, type PriceBookVersion, type PriceEntry } from '../common/billing.ts';
import type { Actor } from '../common/roles.ts';

interface PriceBookDoc {
  _id: number;
  effectiveFrom: string;
  currency: string;
  note?: string;
  prices: PriceEntry[];
  createdBy: Actor;
  createdAt: Date;
}

export const PRICEBOOK_COLLECTION = 'pricebook_versions';

function model(conn: Connection): Model<PriceBookDoc> {
  const existing = conn.models.PriceBookVersion as Model<PriceBookDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<PriceBookDoc>(
    {
      _id: Number,
      effectiveFrom: { type: String, required: true, index: true },
      currency: { type: String, required: true },
      note: String,
      prices: { type: [{ resource: String, pool: String, arch: String, unitPrice: String }], _id: false },
      createdBy: { type: { sub: String, name: String }, _id: false },
      createdAt: { type: Date, required: true },
    },
    { versionKey: false, collection: PRICEBOOK_COLLECTION },
  );
  return conn.model<PriceBookDoc>('PriceBookVersion', schema);
}

const toVersion = (d: PriceBookDoc): PriceBookVersion => ({
  version: d._id,
  effectiveFrom: d.effectiveFrom,
  currency: d.currency,
  minorDigits: 2,
  rounding: 'half-away-from-zero per line',
  ...(d.note ? { note: d.note } : {}),
  prices: d.prices.map((p) => ({ resource: p.resource, pool: p.pool, arch: p.arch, unitPrice: p.unitPrice })),
  createdBy: { sub: d.createdBy.sub, name: d.createdBy.name },
  createdAt: d.createdAt.toISOString(),
});

/** Where the first price book version of an install starts: before any ledger line. */
export const FIRST_EFFECTIVE_MONTH = '1970-01';

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;

/**
 * Versioned price book. Versions are append-only and numbered 1, 2, …; a version published at time t
 * takes effect from the billing month after t, so a month already under way never changes price. The very
 * first version of an install has nothing to replace: it applies from {@link FIRST_EFFECTIVE_MONTH}, so the
 * usage recorded before finance published any price is priced too (on day one, the current month).
 */
export function priceBookStore(conn: Connection) {
  const PriceBook = model(conn);
  return {
    init: async (): Promise<void> => void (await PriceBook.init()),

    /**
     * Appends a version effective from the month after `now` (the first version: from the beginning);
     * concurrent publishers get distinct numbers.
     */
    async publish(input: PriceBookInput, actor: Actor, now: Date): Promise<PriceBookVersion> {
      for (let attempt = 0; ; attempt++) {
        const last = await PriceBook.findOne({}, { _id: 1 }).sort({ _id: -1 }).lean<{ _id: number }>();
        const doc: PriceBookDoc = {
          _id: (last?._id ?? 0) + 1,
          effectiveFrom: last ? monthOf(nextMonthStart(now)) : FIRST_EFFECTIVE_MONTH,
          currency: input.currency,
          ...(input.note ? { note: input.note } : {}),
          prices: input.prices,
          createdBy: { sub: actor.sub, name: actor.name },
          createdAt: now,
        };
        try {
          await PriceBook.create(doc);
          return toVersion(doc);
        } catch (err) {
          if (!isDuplicateKey(err) || attempt >= 5) throw err;
        }
      }
    },

    /** Every version, oldest first (the book is small: one version per price change). */
    async list(): Promise<PriceBookVersion[]> {
      return (await PriceBook.find({}).sort({ _id: 1 }).lean<PriceBookDoc[]>()).map(toVersion);
    },
  };
}
export type PriceBookStore = ReturnType<typeof priceBookStore>;
