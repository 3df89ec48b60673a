import type { Client } from '@temporalio/client';
import fc from 'fast-check';
import type { mongo } from 'mongoose';
import type { OpenApiDocument } from '../openapi/document.ts';
import { badRequests, CATEGORIES, Oracle, type Category, type FuzzRequest, type FuzzTarget, type Method } from './requests.ts';
import { CONTENT_SECURITY_POLICY } from '../security-headers.ts';

/** One response that broke the rules: a 5xx, a non-4xx answer to invalid input, or a 4xx without a problem body. */
export interface FuzzFinding {
  route: string;
  category: Category;
  request: { method: string; url: string; contentType?: string; body?: string };
  status: number;
  why: string;
  response: string;
}

export interface RouteFigures {
  sent: number;
  /** 4xx with a problem body. */
  refused: number;
  /** Status counts. */
  statuses: Record<string, number>;
  /** Requests whose only oddity is input the route ignores (e.g. unknown query on a route without one): any non-5xx is fine. */
  ignored: number;
  /** Generated requests the oracle found valid (e.g. a mutation that happened to fit): not sent. */
  skipped: number;
}

export interface FuzzReport {
  runsPerRoute: number;
  seed: number;
  routes: Record<string, RouteFigures>;
  byCategory: Record<Category, number>;
  findings: FuzzFinding[];
  totalSent: number;
  serverErrors: number;
  ms: number;
}

export interface FuzzOptions {
  /** API base URL (without `/api`). */
  base: string;
  headers: Record<string, string>;
  doc: OpenApiDocument;
  /** Path parameter values per operation (`get`, `/tickets/{id}` → `{ id }`); existing ones, so bad bodies reach validation. */
  params: (method: string, path: string) => Record<string, string>;
  runsPerRoute: number;
  seed?: number;
  /** Routes to leave out, as `METHOD /path` (OpenAPI form). */
  skip?: readonly string[];
  /** Called after each route with a one-line summary. */
  progress?: (line: string) => void;
}

const REQUEST_TIMEOUT_MS = 20_000;

const clip = (s: string | undefined, n = 300): string | undefined => (s === undefined ? undefined : s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** A kept-alive socket the server closed while idle (its keep-alive timeout): the request never reached it. */
const idleSocketClosed = (err: unknown): boolean => (err as { cause?: { code?: string } }).cause?.code === 'UND_ERR_SOCKET';

async function send(
  base: string,
  headers: Record<string, string>,
  r: FuzzRequest,
  retried = false,
): Promise<{ status: number; type: string; text: string; csp?: string | null }> {
  const res = await fetch(`${base}/api${r.url}`, {
    method: r.method.toUpperCase(),
    headers: { ...headers, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
    ...(r.body !== undefined ? { body: r.body } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  }).catch((err: unknown) => {
    if ((err as Error).name === 'TimeoutError') return undefined;
    if (!retried && idleSocketClosed(err)) return null;
    throw err;
  });
  if (res === null) return send(base, headers, r, true);
  // A request left hanging is a finding of its own (status 0), not a stuck run.
  if (!res) return { status: 0, type: '', text: `no answer within ${REQUEST_TIMEOUT_MS} ms` };
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), csp: res.headers.get('content-security-policy') };
}

function problemOk(status: number, type: string, text: string): string | undefined {
  if (!/^application\/problem\+json\b/.test(type)) return `content-type ${type || '(none)'}, not application/problem+json`;
  try {
    const p = JSON.parse(text) as { status?: unknown; title?: unknown };
    if (p.status !== status || typeof p.title !== 'string') return 'problem body without matching status/title';
  } catch {
    return 'problem body is not JSON';
  }
  return undefined;
}

/**
 * Fuzzes every operation of the document against a running API: `runsPerRoute` fast-check runs each,
 * deterministic for a seed. Every invalid request must be answered 4xx with a problem body; nothing
 * may be answered 5xx. Findings are collected, not thrown, so one run reports them all.
 */
export async function fuzzApi(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const oracle = new Oracle();
  const seed = opts.seed ?? Date.now() % 2 ** 31;
  const report: FuzzReport = {
    runsPerRoute: opts.runsPerRoute,
    seed,
    routes: {},
    byCategory: Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>,
    findings: [],
    totalSent: 0,
    serverErrors: 0,
    ms: 0,
  };
  for (const [path, ops] of Object.entries(opts.doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const route = `${method.toUpperCase()} ${path}`;
      if (opts.skip?.includes(route)) continue;
      const target: FuzzTarget = { method: method as Method, path, op, params: opts.params(method, path) };
      const fig: RouteFigures = { sent: 0, refused: 0, statuses: {}, ignored: 0, skipped: 0 };
      report.routes[route] = fig;
      let findingsHere = 0;
      await fc.assert(
        fc.asyncProperty(badRequests(target), async (req) => {
          const verdict = oracle.verdict(target, req);
          // Only input the document calls invalid is sent, besides reads and deletes of nothing with an ignored query.
          if (!verdict.invalid && !(req.category === 'query-injection' && (req.method === 'get' || req.method === 'delete'))) {
            fig.skipped++;
            return;
          }
          const res = await send(opts.base, opts.headers, req);
          fig.sent++;
          report.totalSent++;
          report.byCategory[req.category]++;
          fig.statuses[res.status] = (fig.statuses[res.status] ?? 0) + 1;
          let why: string | undefined;
          if (res.status === 0) {
            why = res.text;
          } else if (res.csp !== CONTENT_SECURITY_POLICY) {
            // Every answer, refusals included, carries the browser security headers (api/security-headers.ts).
            why = `Content-Security-Policy ${res.csp ?? '(none)'}`;
          } else if (res.status >= 500) {
            report.serverErrors++;
            why = 'server error';
          } else if (res.status >= 400) {
            why = problemOk(res.status, res.type, res.text);
            if (!why) fig.refused++;
          } else if (verdict.invalid) {
            why = `accepted input the document says is invalid (${verdict.why})`;
          } else {
            fig.ignored++;
          }
          // A few examples per route are enough to fix a bug; keep the run going to count them all.
          if (why && findingsHere++ < 5) {
            report.findings.push({
              route,
              category: req.category,
              request: {
                method: req.method,
                url: clip(req.url)!,
                ...(req.contentType ? { contentType: req.contentType } : {}),
                ...(req.body !== undefined ? { body: clip(req.body)! } : {}),
              },
              status: res.status,
              why,
              response: clip(res.text)!,
            });
          }
        }),
        { numRuns: opts.runsPerRoute, seed, endOnFailure: true },
      );
      opts.progress?.(`${route}: ${fig.sent} sent, ${fig.refused} refused, ${fig.skipped} skipped`);
    }
  }
  report.ms = Date.now() - started;
  return report;
}

/** Document counts of every collection, to show that bad input stored nothing. */
export async function collectionCounts(db: mongo.Db): Promise<Record<string, number>> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name)
    .filter((n) => !n.startsWith('system.'))
    .sort();
  const out: Record<string, number> = {};
  for (const n of names) out[n] = await db.collection(n).countDocuments({});
  return out;
}

/** How many workflow executions the namespace has (visibility), or on one task queue, to show that bad input started nothing. */
export async function workflowCount(temporal: Client, taskQueue?: string): Promise<number> {
  return (await temporal.workflow.count(taskQueue ? `TaskQueue = '${taskQueue.replaceAll("'", '')}'` : undefined)).count;
}

/** The report as a table for a terminal. */
export function formatReport(r: FuzzReport): string {
  const rows = Object.entries(r.routes).map(([route, f]) => {
    const statuses = Object.entries(f.statuses)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    return `${route.padEnd(44)} ${String(f.sent).padStart(6)} ${String(f.refused).padStart(7)} ${String(f.ignored).padStart(7)} ${String(f.skipped).padStart(7)}  ${statuses}`;
  });
  return [
    `fuzz: ${Object.keys(r.routes).length} routes, ${r.totalSent} requests (${r.runsPerRoute} runs/route, seed ${r.seed}) in ${(r.ms / 1000).toFixed(1)} s; 5xx: ${r.serverErrors}; findings: ${r.findings.length}`,
    `${'route'.padEnd(44)} ${'sent'.padStart(6)} ${'4xx+pb'.padStart(7)} ${'ignored'.padStart(7)} ${'skipped'.padStart(7)}  statuses`,
    ...rows,
    `by category: ${Object.entries(r.byCategory)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}`,
  ].join('\n');
}
