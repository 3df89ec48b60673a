import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { vdcIdSchema } from '../common/tenancy.ts';
import { openStore } from '../store/index.ts';
import { verifyLedger } from '../services/ledger-verify.ts';

const USAGE = 'usage: tsx api/cli.ts ledger verify [--vdc <id>]…';

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
