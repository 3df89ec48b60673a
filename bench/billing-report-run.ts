/**
 * One timed monthly platform report, as its own process so its peak memory (max RSS) is the report's
 * alone. Streams the report to nowhere (bytes are counted) and prints one JSON line: wall time, max RSS,
 * bytes, VDCs, ledger lines read, totals. CPU time (user + system of this process) is printed beside the
 * wall time because the machine may be shared.
 *
 *   tsx bench/billing-report-run.ts --source mongo --mongo <url> [--kind chargeback|showback] [--format csv|json]
 *   tsx bench/billing-report-run.ts --source memory --vdcs 100 --lines 1000000 [--kind …] [--format …]
 *
 * `mongo` reads a database filled by bench/billing.ts through the ledger cursor the API uses; `memory`
 * generates the same synthetic lines one VDC at a time (the engine alone: pricing, sorting, formatting).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { PriceBookVersion } from '../common/billing.ts';
import { streamReport, type ReportLedgerLine } from '../services/billing-report.ts';
import { openStore, type Store } from '../store/index.ts';
import { benchVdcLines, benchVersions, MONTH } from './billing-data.ts';

const Args = z.object({
  source: z.enum(['mongo', 'memory']),
  mongo: z.url().optional(),
  vdcs: z.coerce.number().int().min(1).default(100),
  lines: z.coerce.number().int().min(1).default(1_000_000),
  kind: z.enum(['chargeback', 'showback']).default('chargeback'),
  format: z.enum(['csv', 'json']).default('csv'),
});
const opt = { type: 'string' } as const;
const { values } = parseArgs({ options: { source: opt, mongo: opt, vdcs: opt, lines: opt, kind: opt, format: opt } });
const args = Args.parse(values);

async function* memorySource(vdcs: number, perVdc: number): AsyncGenerator<ReportLedgerLine> {
  for (let v = 0; v < vdcs; v++) yield* benchVdcLines(v, perVdc);
}

const from = new Date(`${MONTH}-01T00:00:00.000Z`);
const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
let store: Store | undefined;
let versions: PriceBookVersion[];
let source: AsyncIterable<ReportLedgerLine>;
if (args.source === 'mongo') {
  if (!args.mongo) throw new Error('--mongo is required with --source mongo');
  store = await openStore(args.mongo);
  versions = await store.priceBooks.list();
  source = store.ledger.reportCursor({});
} else {
  versions = benchVersions();
  source = memorySource(args.vdcs, Math.floor(args.lines / args.vdcs));
}
try {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const summary = await streamReport({
    kind: args.kind,
    format: args.format,
    source,
    versions,
    scope: { kind: 'platform' },
    period: { from, to },
    asOf: to,
    write: () => undefined,
  });
  const wallMs = Math.round(performance.now() - t0);
  const c1 = process.cpuUsage(c0);
  const cpuMs = Math.round((c1.user + c1.system) / 1000);
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(
    JSON.stringify({
      kind: args.kind,
      format: args.format,
      wallMs,
      cpuMs,
      maxRssMB,
      bytes: summary.bytes,
      vdcs: summary.vdcs,
      ledgerLines: summary.ledgerLines,
      totals: summary.totals,
    }),
  );
} finally {
  await store?.close();
}
