import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Schema, type Connection, type Model } from 'mongoose';
import type { AuditEntry, AuditInput, AuditLog } from '../common/audit.ts';

/** `prevHash` of entry 1. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Keys removed (at any depth) from `details` before hashing and storing. */
export const AUDIT_SECRET_KEY = /secret|password|token|cookie|authorization/i;

export const AUDIT_COLLECTION = 'audit_entries';
export const AUDIT_HEAD_COLLECTION = 'audit_head';
const HEAD_ID = 'head';
const MAX_ATTEMPTS = 200;
const MAX_PROBLEMS = 1000;
/** How far from its position verify looks for the seq an entry was originally written with. */
const REORDER_WINDOW = 1000;

export interface AuditFilter {
  /** Exact action, e.g. `auth.login`. */
  action?: string;
  actorSub?: string;
  /** Inclusive bounds on `at`. */
  from?: Date;
  to?: Date;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Entries with a larger seq (ascending order): the paging cursor. */
  afterSeq?: number;
}

export interface AuditProblem {
  /** The entry concerned; 0 for the chain-head record itself. */
  seq: number;
  problem: 'edited' | 'missing' | 'reordered' | 'broken-link';
  detail: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Entries walked. */
  checked: number;
  /** seq recorded by the chain-head document (0 when there is none). */
  headSeq: number;
  problems: AuditProblem[];
}

export type AuditExportFormat = 'jsonl' | 'csv';

export interface AuditStore extends AuditLog {
  list(filter: AuditFilter): Promise<AuditEntry[]>;
  /** Writes every entry in seq order through `write` (awaited: backpressure); resolves with the count. */
  export(format: AuditExportFormat, write: (chunk: string) => void | Promise<void>): Promise<number>;
  /** Walks the whole chain; read-only. */
  verify(): Promise<AuditVerifyResult>;
}

/** Thrown by `append` when it lost the race for the chain head {@link MAX_ATTEMPTS} times in a row. */
export class AuditContentionError extends Error {
  constructor(attempts: number) {
    super(`audit append gave up after ${attempts} attempts: the chain head kept moving`);
    this.name = 'AuditContentionError';
  }
}

/** The stored document: exactly the hashed fields plus `hash` (and mongo's `_id`). */
type StoredEntry = AuditEntry & { _id?: unknown };

interface HeadDoc {
  _id: string;
  seq: number;
  hash: string;
}

/** JSON with keys sorted at every depth; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const obj = value as Record<string, unknown>;
    const members = Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 over the canonical JSON of every field except `hash` (and `_id`). */
export function auditHash(entry: Record<string, unknown>): string {
  const { hash: _hash, _id: _mongoId, ...rest } = entry;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !AUDIT_SECRET_KEY.test(k))
        .map(([k, v]) => [k, stripSecrets(v)]),
    );
  }
  return value;
}

/** The fields of an entry as stored and hashed: plain JSON, actor reduced to sub/name, no secrets in details. */
/**
 * Lone UTF-16 surrogates are replaced (U+FFFD) before hashing: BSON stores strings as UTF-8 and would
 * replace them on write, so an entry hashed with them could never verify again.
 */
const wellFormed = (v: unknown): unknown =>
  typeof v === 'string'
    ? v.toWellFormed()
    : Array.isArray(v)
      ? v.map(wellFormed)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toWellFormed(), wellFormed(x)]))
        : v;

function normalize(input: AuditInput): Omit<AuditEntry, 'seq' | 'at' | 'prevHash' | 'hash'> {
  const details = input.details === undefined ? undefined : (stripSecrets(JSON.parse(JSON.stringify(input.details))) as Record<string, unknown>);
  return wellFormed({
    actor: input.actor ? { sub: input.actor.sub, name: input.actor.name } : null,
    action: input.action,
    ...(input.target !== undefined ? { target: input.target } : {}),
    outcome: input.outcome,
    ...(details !== undefined ? { details } : {}),
    ...(input.ip !== undefined ? { ip: input.ip } : {}),
  }) as Omit<AuditEntry, 'seq' | 'at' | 'prevHash' | 'hash'>;
}

function toEntry(doc: StoredEntry): AuditEntry {
  const { _id: _mongoId, ...entry } = doc;
  return entry;
}

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;

function models(conn: Connection): { Entry: Model<StoredEntry>; Head: Model<HeadDoc> } {
  const existing = conn.models.AuditEntry as Model<StoredEntry> | undefined;
  if (existing) return { Entry: existing, Head: conn.models.AuditHead as Model<HeadDoc> };
  const entrySchema = new Schema<StoredEntry>(
    {
      seq: { type: Number, required: true, unique: true },
      at: String,
      prevHash: String,
      hash: String,
      actor: Schema.Types.Mixed,
      action: String,
      target: String,
      outcome: String,
      details: Schema.Types.Mixed,
      ip: String,
    },
    { versionKey: false, minimize: false, collection: AUDIT_COLLECTION },
  );
  entrySchema.index({ action: 1, seq: 1 });
  entrySchema.index({ 'actor.sub': 1, seq: 1 });
  entrySchema.index({ at: 1 });
  const Entry = conn.model<StoredEntry>('AuditEntry', entrySchema);
  const Head = conn.model<HeadDoc>(
    'AuditHead',
    new Schema<HeadDoc>({ _id: String, seq: Number, hash: String }, { versionKey: false, collection: AUDIT_HEAD_COLLECTION }),
  );
  return { Entry, Head };
}

const CSV_COLUMNS = ['seq', 'at', 'action', 'outcome', 'actorSub', 'actorName', 'target', 'ip', 'details', 'prevHash', 'hash'] as const;

/** RFC 4180 quoting; cells a spreadsheet would read as a formula get a leading `'` (CSV is for reading, JSONL for verifying). */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvRow(e: AuditEntry): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
    seq: String(e.seq),
    at: e.at,
    action: e.action,
    outcome: e.outcome,
    actorSub: e.actor?.sub ?? '',
    actorName: e.actor?.name ?? '',
    target: e.target ?? '',
    ip: e.ip ?? '',
    details: e.details === undefined ? '' : canonicalJson(e.details),
    prevHash: e.prevHash,
    hash: e.hash,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}

/**
 * The platform audit log: an append-only, hash-chained collection (`audit_entries`) plus a chain-head
 * document (`audit_head`: last seq and hash) that makes a truncated tail detectable.
 *
 * Appends are safe across processes without transactions: an entry is built on the head it read and
 * inserted under the unique index on `seq` (the compare-and-set: exactly one writer wins each seq, so the
 * chain never forks); the winner then moves the head forward with a conditional update. A writer that loses
 * the race, or finds the head lagging behind entries (a writer that died between its two writes), first moves
 * the head forward over the linked entries it finds, then retries with jittered backoff.
 *
 * There is deliberately no update or delete. Hashes are unkeyed: they detect edits, removals and reordering
 * made without recomputing the chain; someone able to rewrite every later entry and the head is caught only
 * by comparing with an earlier export (or its last hash).
 */
export function createAuditLog(conn: Connection): AuditStore {
  const { Entry, Head } = models(conn);
  const ready = Promise.all([Entry.init(), Head.init()]);
  ready.catch(() => undefined); // surfaced by the first call that awaits it

  const readHead = async (): Promise<{ seq: number; hash: string; exists: boolean }> => {
    const h = await Head.findById(HEAD_ID).lean<HeadDoc>();
    return h ? { seq: h.seq, hash: h.hash, exists: true } : { seq: 0, hash: AUDIT_GENESIS_HASH, exists: false };
  };

  /** Moves the head from `fromSeq` to `to` if nobody has moved it yet; a no-op otherwise. */
  const advanceHead = async (fromSeq: number, to: { seq: number; hash: string }): Promise<void> => {
    try {
      await Head.updateOne({ _id: HEAD_ID, seq: fromSeq }, { $set: { seq: to.seq, hash: to.hash } }, { upsert: fromSeq === 0 });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // upsert raced with another first head write
    }
  };

  /** Moves the head over entries already linked to it (left behind by a slower or dead writer). */
  const catchUp = async (head: { seq: number; hash: string }): Promise<void> => {
    const next = await Entry.find({ seq: { $gt: head.seq } }, { seq: 1, prevHash: 1, hash: 1 })
      .sort({ seq: 1 })
      .limit(100)
      .lean<Pick<AuditEntry, 'seq' | 'prevHash' | 'hash'>[]>();
    let last = head;
    for (const e of next) {
      if (e.seq !== last.seq + 1 || e.prevHash !== last.hash) break;
      last = { seq: e.seq, hash: e.hash };
    }
    if (last.seq > head.seq) await advanceHead(head.seq, last);
  };

  return {
    async append(input: AuditInput): Promise<AuditEntry> {
      await ready;
      const fields = normalize(input);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const head = await readHead();
        const unhashed = { seq: head.seq + 1, at: new Date().toISOString(), prevHash: head.hash, ...fields };
        const entry: AuditEntry = { ...unhashed, hash: auditHash(unhashed) };
        try {
          await Entry.collection.insertOne({ ...entry });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          await catchUp(head);
          await sleep(Math.random() * Math.min(50, 2 * attempt));
          continue;
        }
        await advanceHead(head.seq, entry);
        return entry;
      }
      throw new AuditContentionError(MAX_ATTEMPTS);
    },

    async list(filter: AuditFilter): Promise<AuditEntry[]> {
      await ready;
      const q: Record<string, unknown> = {};
      if (filter.action) q.action = filter.action;
      if (filter.actorSub) q['actor.sub'] = filter.actorSub;
      if (filter.afterSeq !== undefined) q.seq = { $gt: filter.afterSeq };
      if (filter.from || filter.to) {
        q.at = { ...(filter.from ? { $gte: filter.from.toISOString() } : {}), ...(filter.to ? { $lte: filter.to.toISOString() } : {}) };
      }
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const docs = await Entry.find(q).sort({ seq: 1 }).limit(limit).lean<StoredEntry[]>();
      return docs.map(toEntry);
    },

    async export(format: AuditExportFormat, write: (chunk: string) => void | Promise<void>): Promise<number> {
      await ready;
      let n = 0;
      if (format === 'csv') await write(`${CSV_COLUMNS.join(',')}\r\n`);
      const cursor = Entry.find().sort({ seq: 1 }).lean<StoredEntry[]>().cursor({ batchSize: 1000 });
      try {
        for await (const doc of cursor as AsyncIterable<StoredEntry>) {
          const e = toEntry(doc);
          await write(format === 'csv' ? csvRow(e) : `${canonicalJson(e)}\n`);
          n++;
        }
      } finally {
        await cursor.close();
      }
      return n;
    },

    async verify(): Promise<AuditVerifyResult> {
      await ready;
      // Head first: entries appended during the walk are then beyond it, which is allowed.
      const head = await readHead();
      const problems: AuditProblem[] = [];
      let truncatedProblems = false;
      const report = (p: AuditProblem): void => {
        if (problems.length < MAX_PROBLEMS) problems.push(p);
        else truncatedProblems = true;
      };
      let checked = 0;
      let prev: { seq: number; hash: string } = { seq: 0, hash: AUDIT_GENESIS_HASH };
      let hashAtHeadSeq: string | undefined;
      const cursor = Entry.find().sort({ seq: 1 }).lean<StoredEntry[]>().cursor({ batchSize: 1000 });
      try {
        for await (const doc of cursor as AsyncIterable<StoredEntry>) {
          checked++;
          const e = doc as StoredEntry & Record<string, unknown>;
          if (typeof e.seq !== 'number' || !Number.isInteger(e.seq)) {
            report({ seq: prev.seq + 1, problem: 'edited', detail: `an entry after seq ${prev.seq} has no valid seq (${JSON.stringify(e.seq)})` });
            continue;
          }
          if (e.seq === prev.seq) {
            report({ seq: e.seq, problem: 'reordered', detail: `more than one entry with seq ${e.seq}` });
            continue;
          }
          const gap = e.seq > prev.seq + 1;
          if (gap) {
            const first = prev.seq + 1;
            const last = e.seq - 1;
            report({
              seq: first,
              problem: 'missing',
              detail: first === last ? `entry ${first} is missing` : `entries ${first}–${last} are missing (${last - first + 1})`,
            });
          }
          const actual = auditHash(e);
          let selfReported = false;
          if (actual !== e.hash) {
            selfReported = true;
            const writtenAs = originalSeq(e);
            if (writtenAs !== undefined) report({ seq: e.seq, problem: 'reordered', detail: `entry at seq ${e.seq} was written as seq ${writtenAs}` });
            else report({ seq: e.seq, problem: 'edited', detail: `stored hash ${short(e.hash)} does not match its content (${short(actual)})` });
          }
          if (!gap && !selfReported && e.prevHash !== prev.hash) {
            report({
              seq: e.seq,
              problem: 'broken-link',
              detail: `prevHash ${short(e.prevHash)} is not the hash of seq ${prev.seq} (${short(prev.hash)}): seq ${prev.seq} was rewritten or entries were relinked`,
            });
          }
          if (e.seq === head.seq) hashAtHeadSeq = e.hash;
          prev = { seq: e.seq, hash: e.hash };
        }
      } finally {
        await cursor.close();
      }
      if (!head.exists && checked > 0) {
        report({ seq: 0, problem: 'missing', detail: 'the chain-head document is missing (deleted, or the very first append was interrupted)' });
      } else if (head.seq > prev.seq) {
        const first = prev.seq + 1;
        report({
          seq: first,
          problem: 'missing',
          detail: `the chain head records seq ${head.seq} but the log ends at seq ${prev.seq}: ${head.seq - prev.seq} entr${head.seq - prev.seq === 1 ? 'y' : 'ies'} removed from the tail`,
        });
      } else if (head.exists && hashAtHeadSeq !== undefined && hashAtHeadSeq !== head.hash) {
        report({
          seq: head.seq,
          problem: 'edited',
          detail: `hash ${short(hashAtHeadSeq)} differs from the one the chain head recorded (${short(head.hash)}): the entry was replaced`,
        });
      }
      if (truncatedProblems) problems.push({ seq: 0, problem: 'edited', detail: `more than ${MAX_PROBLEMS} problems; the rest are not listed` });
      return { ok: problems.length === 0, checked, headSeq: head.seq, problems };
    },
  };
}

/** The seq an otherwise untouched entry was hashed with, if it lies near its current one (a moved entry). */
function originalSeq(e: StoredEntry & Record<string, unknown>): number | undefined {
  for (let d = 1; d <= REORDER_WINDOW; d++) {
    for (const s of [e.seq + d, e.seq - d]) {
      if (s >= 1 && auditHash({ ...e, seq: s }) === e.hash) return s;
    }
  }
  return undefined;
}

const short = (h: unknown): string => (typeof h === 'string' ? h.slice(0, 12) : JSON.stringify(h));
