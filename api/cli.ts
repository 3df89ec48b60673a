/**
 * Operator commands against the platform database.
 *
 *   tsx api/cli.ts audit verify                  prints the verify result; exit code 1 when the chain is not intact
 *   tsx api/cli.ts audit export --format jsonl   writes every entry to stdout (jsonl, the default, or csv)
 *   tsx api/cli.ts ledger verify [--vdc <id>]…   rebuilds the ledger from workflow histories and diffs it; exit code 1 on any difference
 *   tsx api/cli.ts ledger void <lineId> --reason <text>   voids one ledger line (kept, billed by no report), audited
 *   tsx api/cli.ts harbor provision [--vdc <id>]… runs the Harbor provisioning of the VDCs (default: every VDC); exit code 1 when one fails
 *   tsx api/cli.ts admin grant --user <username|email>  operations admin for a user (pending by email until their first sign-in); audited
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runAdminCli } from './admin-cli.ts';
import { runHarborCli } from './harbor-cli.ts';
import { runLedgerCli } from './ledger-cli.ts';
import { openAuditLog } from '../store/index.ts';

const USAGE =
  'usage: tsx api/cli.ts audit verify | audit export [--format jsonl|csv] | ledger verify [--vdc <id>]… | ledger void <lineId> --reason <text> | harbor provision [--vdc <id>]… | admin grant --user <username|email>';

const CliEnvSchema = z.object({ EDGEPORT_MONGO_URL: z.url() });

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'ledger') return runLedgerCli(argv);
  if (argv[0] === 'harbor') return runHarborCli(argv);
  if (argv[0] === 'admin') return runAdminCli(argv);
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string', default: 'jsonl' } } });
  const [area, cmd, ...rest] = positionals;
  const format = z.enum(['jsonl', 'csv']).safeParse(values.format);
  if (area !== 'audit' || (cmd !== 'verify' && cmd !== 'export') || rest.length > 0 || !format.success) {
    console.error(USAGE);
    return 2;
  }
  // `… | head` closing the pipe early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  const env = CliEnvSchema.parse(process.env);
  const { audit, close } = await openAuditLog(env.EDGEPORT_MONGO_URL);
  try {
    if (cmd === 'verify') {
      const result = await audit.verify();
      console.log(JSON.stringify(result, null, 2));
      return result.ok ? 0 : 1;
    }
    const count = await audit.export(format.data, async (chunk) => {
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    });
    console.error(`exported ${count} audit entries`);
    return 0;
  } finally {
    await close();
  }
}

process.exitCode = await main(process.argv.slice(2));
