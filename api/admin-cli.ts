import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UserRefSchema } from '../common/tenancy.ts';
import { openStore } from '../store/index.ts';
import { HttpError } from './errors.ts';
import { userDirectory } from './services/user-directory.ts';

const USAGE = 'usage: tsx api/cli.ts admin grant --user <username|email>';

const AdminCliEnvSchema = z.object({ EDGEPORT_MONGO_URL: z.url() });

/** The audit actor of an operator at the database's console. */
const CLI_ACTOR = { sub: 'system:cli', name: 'tsx api/cli.ts admin grant' };

/**
 * `admin grant --user <username|email>`: gives a user who signed in the built-in operations-admin platform
 * binding, or records it as pending for an email nobody signed in with yet (applied at that email's first
 * verified sign-in). Audited (`bootstrap-admin.grant` / `binding.invite`, actor `system:cli`). Prints one JSON
 * line; exit code 0 on success, 1 when the user cannot be named (an unknown username), 2 on usage.
 */
export async function runAdminCli(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { user: { type: 'string' } } });
  const ref = UserRefSchema.safeParse(values.user);
  if (positionals.length !== 2 || positionals[1] !== 'grant' || !ref.success) {
    console.error(USAGE);
    return 2;
  }
  const env = AdminCliEnvSchema.parse(process.env);
  const store = await openStore(env.EDGEPORT_MONGO_URL);
  try {
    const directory = userDirectory({ store, audit: store.audit });
    const result = await directory.grantOpsAdmin(ref.data, CLI_ACTOR);
    console.log(JSON.stringify({ role: 'ops-admin', scope: 'platform', ...result }));
    return 0;
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    console.error(err.message);
    return 1;
  } finally {
    await store.close();
  }
}
