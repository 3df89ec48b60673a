/**
 * Billing benchmark (issue 6). Prints figures, judges nothing. Targets: monthly report < 10 s and < 512 MB
 * at 100 VDCs / 10k tickets / 1M ledger lines; 2× data ≤ 2.2× time.
 *
 * Two parts, each at 1× and 2× data, each report timed in a child process of its own (peak memory = max RSS
 * of that process), median of --runs:
 * 1. engine: the monthly platform report streamed from the synthetic lines generated one VDC at a time
 *    (pricing, sorting, formatting, aggregation; no database) at 1M and 2M lines;
 * 2. database: the same data inserted into a fresh database on the stack's MongoDB-wire server, then the
 *    same report read through the ledger cursor the API uses. SecantusDB inserts a few hundred lines per
 *    second with the ledger's indexes, so this part runs at --db-lines (default 20 000) unless told more.
 *
 *   npm run bench:billing -- [--profile dev|test] [--mongo <url>] [--lines 1000000] [--db-lines 20000] [--runs 3] [--skip-engine] [--skip-db] [--keep]
 *
 * The Mongo URL comes from --mongo, else EDGEPORT_MONGO_URL, else the stack profile's settings
 * (EDGEPORT_PORT_BASE / EDGEPORT_DATA_DIR as for `npm run stack`). Bench databases are dropped unless --keep.
 */
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { z } from 'zod';
import { appEnv } from '../stack/lib/app-env.ts';
import { loadStackConfig } from '../stack/lib/config.ts';
import { openStore, openTestingDatabase } from '../store/index.ts';
import { BENCH_ACTOR, benchVdcLines, domainOf, MONTH, PUBLISHED, TICKETS_PER_VDC, unitsOf, V1, V2, vdcIdOf } from './billing-data.ts';

const Args = z.object({
  profile: z.enum(['dev', 'test']).default('dev'),
  mongo: z.url().optional(),
  lines: z.coerce.number().int().min(1000).max(10_000_000).default(1_000_000),
  dbLines: z.coerce.number().int().min(1000).max(10_000_000).default(20_000),
  runs: z.coerce.number().int().min(1).max(10).default(3),
  skipDb: z.boolean().default(false),
  skipEngine: z.boolean().default(false),
  keep: z.boolean().default(false),
});
const str = { type: 'string' } as const;
const { values } = parseArgs({
  options: {
    profile: str,
    mongo: str,
    lines: str,
    'db-lines': str,
    runs: str,
    'skip-db': { type: 'boolean' },
    'skip-engine': { type: 'boolean' },
    keep: { type: 'boolean' },
  },
});
const args = Args.parse({ ...values, dbLines: values['db-lines'], skipDb: values['skip-db'], skipEngine: values['skip-engine'] });
const VDCS = 100;
const REPORTS = [
  ['chargeback', 'csv'],
  ['showback', 'json'],
] as const;
const repoDir = new URL('..', import.meta.url).pathname;

interface RunResult {
  kind: string;
  format: string;
  wallMs: number;
  cpuMs: number;
  maxRssMB: number;
  bytes: number;
  vdcs: number;
  ledgerLines: number;
  totals: Record<string, string>;
}

async function reportRun(runArgs: string[]): Promise<RunResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/billing-report-run.ts', ...runArgs], {
    cwd: repoDir,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as RunResult;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sec = (ms: number): string => (ms / 1000).toFixed(2);

/** Times each report `runs` times; prints and returns the median run of each. */
async function timeReports(label: string, runArgs: string[]): Promise<Record<string, RunResult>> {
  const out: Record<string, RunResult> = {};
  for (const [kind, format] of REPORTS) {
    const runs: RunResult[] = [];
    for (let i = 0; i < args.runs; i++) runs.push(await reportRun([...runArgs, '--kind', kind, '--format', format]));
    const m = median(runs.map((r) => r.wallMs));
    const pick = runs.find((r) => r.wallMs === m)!;
    out[`${kind}/${format}`] = { ...pick, maxRssMB: Math.max(...runs.map((r) => r.maxRssMB)) };
    console.log(
      `  ${label} monthly ${kind} ${format} (${MONTH}, platform): wall ${runs.map((r) => sec(r.wallMs)).join(' / ')} s, median ${sec(m)} s; CPU ${runs.map((r) => sec(r.cpuMs)).join(' / ')} s; peak RSS ${Math.max(...runs.map((r) => r.maxRssMB))} MB; ${(pick.bytes / 1e6).toFixed(1)} MB out; ${pick.ledgerLines} lines read; totals ${JSON.stringify(pick.totals)}`,
    );
  }
  return out;
}

function summary(title: string, one: Record<string, RunResult>, two: Record<string, RunResult>): void {
  console.log(`${title} (targets: < 10 s, < 512 MB, 2× data ≤ 2.2× time)`);
  for (const k of Object.keys(one)) {
    const a = one[k]!;
    const b = two[k]!;
    console.log(
      `  ${k.padEnd(16)} 1×: wall ${sec(a.wallMs)} s, CPU ${sec(a.cpuMs)} s, ${a.maxRssMB} MB   2×: wall ${sec(b.wallMs)} s, CPU ${sec(b.cpuMs)} s, ${b.maxRssMB} MB   ratio wall ${(b.wallMs / a.wallMs).toFixed(2)}, CPU ${(b.cpuMs / a.cpuMs).toFixed(2)}`,
    );
  }
}

/** Fills a fresh database: data first, then the indexes and the price book (SecantusDB inserts faster without indexes). */
async function fillDatabase(url: string, vdcs: number, lines: number): Promise<void> {
  const raw = await openTestingDatabase(url);
  const db = raw.db;
  const t0 = performance.now();
  await db.collection('domains').insertMany(Array.from({ length: Math.ceil(vdcs / 10) }, (_, d) => ({ _id: `dom-${d}` as never, name: `Domain ${d}` })));
  await db.collection('vdcs').insertMany(
    Array.from({ length: vdcs }, (_, v) => ({
      _id: vdcIdOf(v) as never,
      name: `VDC ${v}`,
      domainId: domainOf(v),
      namespace: `vdc-${vdcIdOf(v)}`,
      pool: `pool-${v % 3}`,
      quota: { cpu: 8, memoryGi: 16, pods: 50 },
    })),
  );
  const tickets = [];
  for (let v = 0; v < vdcs; v++)
    for (let t = 0; t < TICKETS_PER_VDC; t++)
      tickets.push({
        _id: `t-${v}-${t}` as never,
        type: ['quota-change', 'quota-lease', 'node-join'][t % 3],
        vdcId: vdcIdOf(v),
        status: 'completed',
        workflowId: `t-${v}-${t}`,
      });
  for (let i = 0; i < tickets.length; i += 10_000) await db.collection('tickets').insertMany(tickets.slice(i, i + 10_000), { ordered: false });
  const ledger = db.collection('ledgerlines');
  for (let v = 0; v < vdcs; v++) {
    const docs = benchVdcLines(v, Math.floor(lines / vdcs)).map((l) => ({ ...l, units: unitsOf(l.fact), createdAt: l.start }));
    await ledger.insertMany(docs as never[], { ordered: false });
  }
  const t1 = performance.now();
  await raw.close();
  const store = await openStore(url);
  const pb = store.priceBooks;
  await pb.publish(V1, BENCH_ACTOR, PUBLISHED[0]);
  await pb.publish(V2, BENCH_ACTOR, PUBLISHED[1]);
  await store.close();
  const t2 = performance.now();
  console.log(
    `  inserted ${vdcs} VDCs, ${tickets.length} tickets, ${lines} ledger lines in ${sec(t1 - t0)} s (${Math.round(lines / ((t1 - t0) / 1000))} lines/s); indexes + price book ${sec(t2 - t1)} s`,
  );
}

let engine: Record<string, RunResult>[] = [];
if (!args.skipEngine) {
  console.log(`engine: ${VDCS} VDCs, ${VDCS * TICKETS_PER_VDC} tickets' worth of ledger lines, generated one VDC at a time`);
  engine = [
    await timeReports(`1× (${args.lines} lines)`, ['--source', 'memory', '--vdcs', String(VDCS), '--lines', String(args.lines)]),
    await timeReports(`2× (${2 * args.lines} lines)`, ['--source', 'memory', '--vdcs', String(2 * VDCS), '--lines', String(2 * args.lines)]),
  ];
}

if (!args.skipDb) {
  const baseUrl =
    args.mongo ??
    z.object({ EDGEPORT_MONGO_URL: z.url().optional() }).parse(process.env).EDGEPORT_MONGO_URL ??
    String(appEnv(loadStackConfig(args.profile)).EDGEPORT_MONGO_URL);
  const dbs: string[] = [];
  const results: Record<string, RunResult>[] = [];
  for (const factor of [1, 2]) {
    const url = new URL(baseUrl);
    url.pathname = `/edgeport_bench_${factor}x_${process.pid}`;
    dbs.push(url.href);
    console.log(`database ${factor}×: ${url.host}${url.pathname}`);
    await fillDatabase(url.href, VDCS * factor, args.dbLines * factor);
    results.push(await timeReports(`${factor}× (${args.dbLines * factor} lines)`, ['--source', 'mongo', '--mongo', url.href]));
  }
  summary('\ndatabase summary', results[0]!, results[1]!);
  if (args.keep) console.log(`kept: ${dbs.join(' ')}`);
  else {
    for (const url of dbs) {
      const raw = await openTestingDatabase(url);
      await raw.dropDatabase();
      await raw.close();
    }
  }
}
if (engine.length === 2) summary('\nengine summary', engine[0]!, engine[1]!);
