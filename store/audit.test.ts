import type { Connection } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditInput } from '../common/audit.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';
import { AUDIT_COLLECTION, AUDIT_GENESIS_HASH, AUDIT_HEAD_COLLECTION, auditHash, createAuditLog, type AuditStore } from './audit.ts';
import { connectStore } from './connection.ts';

/** Integration tests against the stack's MongoDB-wire server, one fresh database per test. */
const connections: Connection[] = [];

/** A connection to a database of its own (the stack URL with its database name replaced). */
function dbUrl(name: string): string {
  const url = new URL(stackEnv('EDGEPORT_MONGO_URL'));
  url.pathname = `/${name}`;
  return url.href;
}

async function connect(name: string): Promise<Connection> {
  const conn = await connectStore(dbUrl(name));
  connections.push(conn);
  return conn;
}

async function freshLog(): Promise<{ conn: Connection; audit: AuditStore }> {
  const conn = await connect(uniqueName('audit').replaceAll('-', '_'));
  return { conn, audit: createAuditLog(conn) };
}

const event = (i: number, extra: Partial<AuditInput> = {}): AuditInput => ({
  actor: { sub: `u-${i % 3}`, name: `User ${i % 3}` },
  action: i % 2 ? 'binding.grant' : 'auth.login',
  target: `user:u-${i}`,
  outcome: 'success',
  details: { i, nested: { list: [1, 'two', { three: 3 }] } },
  ip: '127.0.0.1',
  ...extra,
});

async function appendMany(audit: AuditStore, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await audit.append(event(i));
}

afterAll(async () => {
  for (const conn of connections) {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
  }
});

describe('audit log', () => {
  it('chains appended entries and verifies them', async () => {
    const { audit } = await freshLog();
    expect(await audit.verify()).toEqual({ ok: true, checked: 0, headSeq: 0, problems: [] });
    const first = await audit.append(event(1));
    expect(first).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS_HASH, action: 'binding.grant', outcome: 'success' });
    expect(first.hash).toBe(auditHash({ ...first }));
    expect(Date.parse(first.at)).not.toBeNaN();
    const second = await audit.append({ actor: null, action: 'auth.login.failed', outcome: 'failure', details: { code: 'login_failed' } });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, actor: null });
    await appendMany(audit, 5);

    expect(await audit.verify()).toEqual({ ok: true, checked: 7, headSeq: 7, problems: [] });
    const listed = await audit.list({});
    expect(listed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(listed[1]).toEqual(second);
    expect((await audit.list({ action: 'auth.login.failed' })).map((e) => e.seq)).toEqual([2]);
    expect((await audit.list({ actorSub: 'u-1' })).map((e) => e.seq)).toEqual([1, 3, 6]);
    expect((await audit.list({ afterSeq: 3, limit: 2 })).map((e) => e.seq)).toEqual([4, 5]);
    expect(await audit.list({ from: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await audit.list({ to: new Date(second.at), from: new Date(first.at) })).toHaveLength(2);
  });

  it('keeps one unforked chain under 30 concurrent appends from several connections', async () => {
    const { conn } = await freshLog();
    const others = await Promise.all([1, 2].map(() => connect(conn.name)));
    const writers = [conn, ...others].map((c) => createAuditLog(c));
    const started = Date.now();
    const entries = await Promise.all(Array.from({ length: 30 }, (_, i) => writers[i % writers.length]!.append(event(i))));
    const elapsed = Date.now() - started;
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const result = await writers[0]!.verify();
    expect(result).toEqual({ ok: true, checked: 30, headSeq: 30, problems: [] });
    console.log(`30 concurrent appends over 3 connections: ${elapsed} ms`);
  });

  it('still verifies after storing strings with lone surrogates (BSON would rewrite them)', async () => {
    const { audit } = await freshLog();
    await audit.append(event(1, { target: 'user:\ud800x', details: { name: 'a\udfffb', ['k\ud801']: ['\ud83d'] } }));
    await audit.append(event(2));
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 2 });
  });

  it('names an edited entry', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 6);
    await conn.collection(AUDIT_COLLECTION).updateOne({ seq: 4 }, { $set: { 'details.i': 99 } });
    const r = await audit.verify();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ seq: 4, problem: 'edited', detail: expect.any(String) }]);
  });

  it('names the next entry when an edited entry was also re-hashed', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 6);
    const coll = conn.collection(AUDIT_COLLECTION);
    const doc = (await coll.findOne({ seq: 3 }))!;
    const forged = { ...doc, outcome: 'failure' };
    await coll.updateOne({ seq: 3 }, { $set: { outcome: 'failure', hash: auditHash(forged) } });
    const r = await audit.verify();
    expect(r.problems).toEqual([{ seq: 4, problem: 'broken-link', detail: expect.stringContaining('seq 3') }]);
  });

  it('names a removed entry', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 6);
    await conn.collection(AUDIT_COLLECTION).deleteOne({ seq: 3 });
    const r = await audit.verify();
    expect(r).toMatchObject({ ok: false, checked: 5, headSeq: 6 });
    expect(r.problems).toEqual([{ seq: 3, problem: 'missing', detail: 'entry 3 is missing' }]);
  });

  it('detects two entries that swapped places', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 6);
    const coll = conn.collection(AUDIT_COLLECTION);
    await coll.updateOne({ seq: 2 }, { $set: { seq: -2 } });
    await coll.updateOne({ seq: 5 }, { $set: { seq: 2 } });
    await coll.updateOne({ seq: -2 }, { $set: { seq: 5 } });
    const r = await audit.verify();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        { seq: 2, problem: 'reordered', detail: 'entry at seq 2 was written as seq 5' },
        { seq: 5, problem: 'reordered', detail: 'entry at seq 5 was written as seq 2' },
      ]),
    );
    expect(r.problems.every((p) => ['reordered', 'broken-link'].includes(p.problem))).toBe(true);
  });

  it('detects an entry relinked to another predecessor', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 5);
    const coll = conn.collection(AUDIT_COLLECTION);
    const one = (await coll.findOne({ seq: 1 }))!;
    const four = (await coll.findOne({ seq: 4 }))!;
    await coll.updateOne({ seq: 4 }, { $set: { prevHash: one.hash, hash: auditHash({ ...four, prevHash: one.hash }) } });
    const r = await audit.verify();
    expect(r.problems).toEqual(expect.arrayContaining([{ seq: 4, problem: 'broken-link', detail: expect.any(String) }]));
  });

  it('detects a removed tail through the chain head, and a removed head', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 4);
    await conn.collection(AUDIT_COLLECTION).deleteOne({ seq: 4 });
    const r = await audit.verify();
    expect(r).toMatchObject({ ok: false, checked: 3, headSeq: 4 });
    expect(r.problems).toEqual([{ seq: 4, problem: 'missing', detail: expect.stringContaining('ends at seq 3') }]);

    // An append after the truncation still links to the removed entry: the gap stays visible.
    expect((await audit.append(event(9))).seq).toBe(5);
    expect((await audit.verify()).problems).toEqual([{ seq: 4, problem: 'missing', detail: 'entry 4 is missing' }]);

    await conn.collection(AUDIT_HEAD_COLLECTION).deleteMany({});
    expect((await audit.verify()).problems).toEqual(expect.arrayContaining([{ seq: 0, problem: 'missing', detail: expect.stringContaining('chain-head') }]));
  });

  it('recovers when a writer died between inserting its entry and moving the head', async () => {
    const { conn, audit } = await freshLog();
    await appendMany(audit, 3);
    // Simulate the crash: put the head back one entry.
    const two = (await conn.collection(AUDIT_COLLECTION).findOne({ seq: 2 }))!;
    await conn.collection(AUDIT_HEAD_COLLECTION).updateOne({ _id: 'head' as never }, { $set: { seq: 2, hash: two.hash } });
    expect((await audit.verify()).ok).toBe(true);
    expect((await audit.append(event(4))).seq).toBe(4);
    expect(await audit.verify()).toEqual({ ok: true, checked: 4, headSeq: 4, problems: [] });
  });

  it('never stores secrets', async () => {
    const { conn, audit } = await freshLog();
    const entry = await audit.append(
      event(1, {
        details: {
          clientSecret: 's3cr3t',
          password: 'pw',
          nested: { accessToken: 'tok', Cookie: 'c', keep: 'yes' },
          list: [{ Authorization: 'Bearer x', id: 7 }],
          when: new Date('2025-01-02T03:04:05Z'),
        },
      }),
    );
    expect(entry.details).toEqual({ nested: { keep: 'yes' }, list: [{ id: 7 }], when: '2025-01-02T03:04:05.000Z' });
    const raw = JSON.stringify(await conn.collection(AUDIT_COLLECTION).find().toArray());
    for (const secret of ['s3cr3t', '"pw"', 'tok', 'Bearer']) expect(raw).not.toContain(secret);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('exports JSON lines and CSV', async () => {
    const { audit } = await freshLog();
    await appendMany(audit, 3);
    await audit.append({ actor: { sub: 'u-x', name: '=cmd|"evil",\nname' }, action: 'role.create', outcome: 'success', details: { note: 'a,b' } });
    let jsonl = '';
    expect(await audit.export('jsonl', (c) => void (jsonl += c))).toBe(4);
    const lines = jsonl
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    for (const l of lines) expect(auditHash(l)).toBe(l.hash);

    let csv = '';
    expect(await audit.export('csv', (c) => void (csv += c))).toBe(4);
    const rows = csv.split('\r\n');
    expect(rows[0]).toBe('seq,at,action,outcome,actorSub,actorName,target,ip,details,prevHash,hash');
    expect(rows[4]).toContain(`,u-x,"'=cmd|""evil"",\nname",`);
    expect(rows[4]).toContain('"{""note"":""a,b""}"');
  });

  it('measures append latency and verify time', async () => {
    const { conn, audit } = await freshLog();
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await audit.append(event(i));
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    // A longer chain, written directly (same shape as append writes), for the verify figure.
    const last = (await audit.list({ afterSeq: 199 }))[0]!;
    let prev = { seq: last.seq, hash: last.hash };
    const docs: Record<string, unknown>[] = [];
    for (let i = 0; i < 4800; i++) {
      const unhashed = { seq: prev.seq + 1, at: new Date().toISOString(), prevHash: prev.hash, ...event(i) };
      const hash = auditHash(unhashed);
      docs.push({ ...unhashed, hash });
      prev = { seq: unhashed.seq, hash };
    }
    await conn.collection(AUDIT_COLLECTION).insertMany(docs);
    await conn.collection(AUDIT_HEAD_COLLECTION).updateOne({ _id: 'head' as never }, { $set: prev });
    const t = performance.now();
    const r = await audit.verify();
    const verifyMs = performance.now() - t;
    expect(r).toEqual({ ok: true, checked: 5000, headSeq: 5000, problems: [] });
    console.log(`append p50 ${times[100]!.toFixed(1)} ms, p95 ${times[190]!.toFixed(1)} ms; verify of ${r.checked} entries ${verifyMs.toFixed(0)} ms`);
  });
});
