import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { LOCAL_POOL, seedPool, seedVdc, stackPools } from '../stack/seed.ts';
import { startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { isolatedMongoUrl, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';
import { collectionCounts, formatReport, fuzzApi, workflowCount } from './fuzz/run.ts';
import type { OpenApiDocument } from './openapi/document.ts';

/**
 * Every /api route fuzzed from the OpenAPI document the API serves (built from the route definitions and
 * their zod schemas), against a real api process on the test stack, signed in as the operations admin
 * (who passes every permission check, so bad input reaches validation). Invalid input must be answered
 * 4xx with a problem body, never 5xx, and must store nothing (document counts of every MongoDB collection)
 * and start nothing (Temporal workflow count).
 *
 * Runs per route: EDGEPORT_FUZZ_RUNS (default 12 here; `npm run fuzz` runs 300 and prints the table);
 * EDGEPORT_FUZZ_SEED replays a run.
 */
const RUNS = Number(process.env.EDGEPORT_FUZZ_RUNS ?? 12);
const SEED = process.env.EDGEPORT_FUZZ_SEED ? Number(process.env.EDGEPORT_FUZZ_SEED) : undefined;

let store: Store;
let temporal: Client;
let connection: Connection;
let api: TestApi;
let cookie = '';
let doc: OpenApiDocument;
/**
 * The fuzzed api has a database and a task queue of its own: its verdict (nothing stored, nothing started)
 * counts whole collections and workflows, which other test files running beside it would change.
 */
const mongoUrl = isolatedMongoUrl('fuzz');
const taskQueue = uniqueName('fuzz-q');
const f = { domain: uniqueName('fz'), vdc: uniqueName('fz'), ticket: '', role: `custom:${uniqueName('fz')}` };
const memberSub = demoUserByUsername('other')!.sub;

/**
 * Path values that exist for reads and for writes with a body (so the body is what is wrong), and values
 * that do not exist for deletes (a delete whose only oddity is an ignored query must not remove anything).
 * Pools never exist here: a pool read with an ignored query is a valid read, and it runs as a workflow
 * (the worker reads the cluster), which would show up in the workflow count; the pool routes parse their
 * bodies before looking the pool up.
 */
function params(method: string, path: string): Record<string, string> {
  const missing = method === 'delete';
  const id = path.startsWith('/tickets/')
    ? f.ticket
    : path.startsWith('/domains/') || path.startsWith('/reports/domains/')
      ? missing
        ? 'fz-missing'
        : f.domain
      : path.startsWith('/vdcs/') || path.startsWith('/reports/vdcs/')
        ? missing
          ? 'fz-missing'
          : f.vdc
        : path.startsWith('/pools/')
          ? 'fz-missing'
          : path.startsWith('/reports/pools/')
            ? LOCAL_POOL
            : path.startsWith('/roles/')
              ? missing
                ? 'custom:fz-missing'
                : f.role
              : randomUUID();
  return { id, sub: missing ? 'fz-missing-user' : memberSub, name: 'edge-amd64-1' };
}

const settle = () => new Promise((r) => setTimeout(r, 3_000));

beforeAll(async () => {
  store = await openStore(mongoUrl);
  for (const pool of stackPools(process.env)) await seedPool(store, pool);
  connection = await Connection.connect({ address: stackEnv('EDGEPORT_TEMPORAL_ADDRESS') });
  temporal = new Client({ connection, namespace: stackEnv('EDGEPORT_TEMPORAL_NAMESPACE') });
  await store.domains.create({ _id: f.domain, name: f.domain });
  await seedVdc(store, createKubeClients(stackEnv('EDGEPORT_KUBECONFIG')), {
    id: f.vdc,
    name: f.vdc,
    domainId: f.domain,
    quota: { cpu: 4, memoryGi: 8, pods: 20 },
  });
  await store.roles.create({ _id: f.role as `custom:${string}`, name: 'fuzz', baseRole: 'vdc-user', permissions: ['vdc:read'], createdBy: 'test' });
  api = await startTestApi({ EDGEPORT_MONGO_URL: mongoUrl, EDGEPORT_TASK_QUEUE: taskQueue, EDGEPORT_BOOTSTRAP_ADMINS: 'opsadmin' });
  cookie = await loginAs(api.base, 'opsadmin', demoUserByUsername('opsadmin')!.password);
  const res = await fetch(`${api.base}/api/tickets`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'quota-change', vdcId: f.vdc, quota: { cpu: 5 } }),
  });
  expect(res.status).toBe(201);
  f.ticket = ((await res.json()) as { id: string }).id;
}, 240_000);

afterAll(async () => {
  await api?.stop();
  await connection?.close();
  await store?.testing.dropDatabase().catch(() => undefined);
  await store?.close();
});

describe('OpenAPI document', () => {
  it('is served at /api/openapi.json, generated from the route definitions: every path parameter and body has its schema', async () => {
    expect((await fetch(`${api.base}/api/openapi.json`)).status).toBe(401);
    const res = await fetch(`${api.base}/api/openapi.json`, { headers: { cookie } });
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([path, o]) => Object.entries(o).map(([method, op]) => ({ method, path, op })));
    expect(ops.length).toBeGreaterThanOrEqual(40);
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const gaps: string[] = [];
    for (const { method, path, op } of ops) {
      for (const p of op.parameters) {
        ajv.compile(p.schema);
        // An undeclared path parameter is documented as a bare string: every route declares its own.
        if (p.in === 'path' && Object.keys(p.schema).length === 1) gaps.push(`${method} ${path}: path ${p.name} has no schema`);
      }
      if (['post', 'put', 'patch'].includes(method) && !op.requestBody) gaps.push(`${method} ${path}: no request body schema`);
      if (op.requestBody) ajv.compile(op.requestBody.content['application/json'].schema);
    }
    expect(gaps).toEqual([]);
  });
});

describe('display fields (issue 19)', () => {
  // Right-to-left override, only zero-width characters, NUL, lone surrogates, escapes: refused in every display
  // field with a 400 problem naming it, and nothing stored or started.
  const probes: [string, string, () => Record<string, unknown>, string][] = [
    ['POST', '/api/tokens', () => ({ name: 'report\u202Egpj.exe', permissions: ['vdc:read'], expiresInDays: 1 }), 'name'],
    ['POST', '/api/images/categories', () => ({ name: '\u200B\u200C\u200D' }), 'name'],
    ['POST', '/api/domains', () => ({ id: uniqueName('fzd'), name: 'a\u0000b' }), 'name'],
    ['POST', '/api/domains', () => ({ id: uniqueName('fzd'), name: '\uFEFF \u2028' }), 'name'],
    ['POST', '/api/vdcs/VDC/security-groups', () => ({ name: 'fz-sg', description: 'lone \uD800 surrogate' }), 'description'],
    ['POST', '/api/vdcs/VDC/security-groups', () => ({ name: 'fz-sg', description: 'escape \u001b[2J' }), 'description'],
    ['POST', '/api/tickets', () => ({ type: 'quota-change', vdcId: f.vdc, quota: { cpu: 5 }, reason: 'ok\u202E' }), 'reason'],
    ['POST', '/api/tickets/TICKET/cancel', () => ({ reason: 'nul\u0000' }), 'reason'],
    ['POST', '/api/tickets/TICKET/decisions', () => ({ decision: 'approve', comment: 'a\uDC00' }), 'comment'],
    ['POST', '/api/roles', () => ({ id: uniqueName('fzr'), name: '\u200B', baseRole: 'vdc-user', permissions: ['vdc:read'] }), 'name'],
  ];

  it('refuses control, format and lone-surrogate characters and invisible-only text, naming the field', async () => {
    const before = { collections: await collectionCounts(store.testing.db), workflows: await workflowCount(temporal, taskQueue) };
    for (const [method, path, body, field] of probes) {
      const url = `${api.base}${path.replace('VDC', f.vdc).replace('TICKET', f.ticket)}`;
      const res = await fetch(url, { method, headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body()) });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBe(400);
      expect(res.headers.get('content-type'), path).toMatch(/application\/problem\+json/);
      const problem = JSON.parse(text) as { errors?: { field: string }[] };
      expect(problem.errors?.map((e) => e.field) ?? [], `${method} ${path}: ${text}`).toContain(field);
    }
    await settle();
    expect({ collections: await collectionCounts(store.testing.db), workflows: await workflowCount(temporal, taskQueue) }).toEqual(before);
  });
});

describe('fuzzing every route from the document', () => {
  it(
    'bad input: 4xx with a problem body, never 5xx; nothing stored, no workflow started',
    async () => {
      expect(doc).toBeDefined();
      await settle();
      const before = { collections: await collectionCounts(store.testing.db), workflows: await workflowCount(temporal, taskQueue) };
      const report = await fuzzApi({
        base: api.base,
        headers: { cookie },
        doc,
        params,
        runsPerRoute: RUNS,
        progress: (line) => process.stderr.write(`${line}\n`),
        ...(SEED !== undefined ? { seed: SEED } : {}),
      });
      console.log(formatReport(report));
      await settle();
      const after = { collections: await collectionCounts(store.testing.db), workflows: await workflowCount(temporal, taskQueue) };
      console.log(
        `stored/started: collections ${JSON.stringify(before.collections)} → ${JSON.stringify(after.collections)}; workflows ${before.workflows} → ${after.workflows}`,
      );
      expect(report.findings).toEqual([]);
      expect(report.serverErrors).toBe(0);
      expect(Object.keys(report.routes).length).toBe(Object.values(doc.paths).reduce((n, o) => n + Object.keys(o).length, 0));
      expect(after).toEqual(before);
    },
    Math.max(300_000, RUNS * 60 * 250),
  );
});

/**
 * Security probes that stay fixed (issue 19): requests found by hand that once got a 2xx or broke a report.
 * They run after the fuzzing, whose verdict counts every collection, because the second one writes a ledger line.
 */
describe('security probes (issue 19)', () => {
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.base}/api${path}`, {
      method,
      headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: text && type.includes('json') ? JSON.parse(text) : undefined, text };
  };

  it('a volume of 99999999999999999999Ti or 100000Ti is a 400 problem naming size, and nothing is stored or started', async () => {
    const before = { collections: await collectionCounts(store.testing.db), workflows: await workflowCount(temporal, taskQueue) };
    for (const size of ['99999999999999999999Ti', '100000Ti']) {
      const r = await send('POST', `/vdcs/${f.vdc}/volumes`, { name: 'h4huge', size, accessMode: 'ReadWriteOnce' });
      expect(r.status, size).toBe(400);
      expect(r.type).toMatch(/application\/problem\+json/);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual(['size']);
    }
    const quota = await send('POST', '/tickets', { type: 'quota-change', vdcId: f.vdc, quota: { storageGi: 1e30 } });
    expect(quota.status).toBe(400);
    expect(quota.body.errors.map((e: { field: string }) => e.field)).toEqual(['quota.storageGi']);
    const after = { collections: await collectionCounts(store.testing.db), workflows: await workflowCount(temporal, taskQueue) };
    expect(after).toEqual(before);
  });

  it('a ledger line no report can price (inserted directly): every report answers 200 and names it under errors until it is voided', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const lineId = `volume-${f.vdc}-create-probe/00000000-0000-4000-8000-000000000001/5`;
    await store.testing.collection('ledgerlines').insertOne({
      _id: lineId as never,
      workflowId: `volume-${f.vdc}-create-probe`,
      runId: '00000000-0000-4000-8000-000000000001',
      eventId: 5,
      fact: 'volume.storage',
      vdcId: f.vdc,
      domainId: f.domain,
      pool: LOCAL_POOL,
      subject: `vdc-${f.vdc}/h4huge`,
      quantities: { storageGi: 1.024e23 },
      units: { storageGi: 'GiB' },
      start: new Date(`${month}-01T00:00:00.000Z`),
      createdAt: new Date(),
    });
    const reports = [`/reports/platform`, `/reports/vdcs/${f.vdc}`, `/reports/domains/${f.domain}`, `/reports/pools/${LOCAL_POOL}`];
    for (const path of reports) {
      for (const query of ['kind=showback', 'kind=chargeback', 'kind=chargeback&format=csv', 'kind=showback&format=csv']) {
        const r = await send('GET', `${path}?month=${month}&${query}`);
        expect(r.status, `${path} ${query}`).toBe(200);
        if (query.includes('csv')) expect(r.text, `${path} ${query}`).toContain(`error,${f.vdc},${f.domain},${LOCAL_POOL},`);
        else expect(r.body.errors.map((e: { ledgerLineId: string }) => e.ledgerLineId)).toEqual([lineId]);
      }
    }
    const voided = await send('POST', '/ledger/voids', { lineId, reason: 'probe: huge volume line' });
    expect(voided.status).toBe(201);
    for (const path of reports) {
      const r = await send('GET', `${path}?month=${month}`);
      expect(r.status).toBe(200);
      expect(r.body.errors).toEqual([]);
      expect(r.body.voided.map((v: { ledgerLineId: string }) => v.ledgerLineId)).toEqual([lineId]);
    }
  });
});
