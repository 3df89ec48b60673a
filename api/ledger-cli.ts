import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { vdcIdSchema } from '../common/tenancy.ts';
import { openStore } from '../store/index.ts';
import { verifyLedger } from '../services/ledger-verify.ts';
import { voidLedgerLine } from '../services/ledger-void.ts';
import { VoidLineBody } from '../common/billing.ts';

const USAGE = 'usage: tsx api/cli.ts ledger verify [--vdc <id>]… | ledger void <lineId> --reason <text>';

/** The audit actor of an operator at the database's console. */
const CLI_ACTOR = { sub: 'system:cli', name: 'tsx api/cli.ts ledger void' };

const VoidEnvSchema = z.object({ EDGEPORT_MONGO_URL: z.url() });

/**
 * `ledger void <lineId> --reason <text>`: the CLI form of `POST /api/ledger/voids` (same path, audited as
 * `ledger.void` with actor `system:cli`). Prints the voided line as JSON; exit code 0 when voided, 1 when
 * there is no such line or it was voided already, 2 on usage.
 */
async function runVoid(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { reason: { type: 'string' } } });
  const body = VoidLineBody.safeParse({ lineId: positionals[2], reason: values.reason });
  if (positionals.length !== 3 || !body.success) {
    console.error(body.success ? USAGE : `${USAGE}\n${body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}`);
    return 2;
  }
  const store = await openStore(VoidEnvSchema.parse(process.env).EDGEPORT_MONGO_URL);
  try {
    const r = await voidLedgerLine({ store, audit: store.audit }, CLI_ACTOR, body.data.lineId, body.data.reason);
    if (r.outcome === 'not-found') console.error(`no ledger line ${body.data.lineId}`);
    else console.log(JSON.stringify(r));
    return r.outcome === 'voided' ? 0 : 1;
  } finally {
    await store.close();
  }
}

const LedgerCliEnvSchema = z.object({
  EDGEPORT_MONGO_URL: z.url(),
  EDGEPORT_TEMPORAL_ADDRESS: z.string().min(1),
  EDGEPORT_TEMPORAL_NAMESPACE: z.string().default('default'),
});

/**
 * `ledger verify`: rebuilds the ledger from every workflow history and prints the line-by-line diff
 * with the stored ledger as JSON. Exit code 0 when there is no difference, 1 when there is, 2 on usage.
 */
export async function runLedgerCli(argv: string[]): Promise<number> {
  if (argv[1] === 'void') return runVoid(argv);
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { vdc: { type: 'string', multiple: true } } });
  const vdcs = z.array(vdcIdSchema).optional().safeParse(values.vdc);
  if (positionals.length !== 2 || positionals[1] !== 'verify' || !vdcs.success) {
    console.error(USAGE);
    return 2;
  }
  const env = LedgerCliEnvSchema.parse(process.env);
  const store = await openStore(env.EDGEPORT_MONGO_URL);
  const connection = await Connection.connect({ address: env.EDGEPORT_TEMPORAL_ADDRESS });
  try {
    const temporal = new Client({ connection, namespace: env.EDGEPORT_TEMPORAL_NAMESPACE });
    const result = await verifyLedger({ temporal, storedLines: (ids) => store.ledger.list(ids) }, vdcs.data ? { vdcIds: vdcs.data } : {});
    console.log(JSON.stringify(result, null, 2));
    return result.ok ? 0 : 1;
  } finally {
    await connection.close();
    await store.close();
  }
}
