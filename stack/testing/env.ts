import { randomBytes } from 'node:crypto';
import { createPoolClients, type PoolClients } from '../../infra/kube/pool-clients.ts';
import { credentialCipher } from '../../store/credentials.ts';
import type { Store } from '../../store/index.ts';

/**
 * Settings of the running test stack, exported by `stack/cli.ts test` (npm test). Integration tests
 * read them here and nowhere else; a missing one means the test was started outside the harness.
 */
export function stackEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with \`npm test\` (stack/cli.ts test), which starts the real servers`);
  return v;
}

/** The whole app environment (for spawning api/worker processes in tests). */
export function appEnvFromProcess(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('EDGEPORT_') && e[1] !== undefined));
}

/** A DNS-label-safe unique name, so tests never share objects. */
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

/**
 * The test stack's MongoDB with a database of its own (a fresh, unique name): for files whose verdict covers
 * the whole database (document counts, an empty install) while other files write to the shared one.
 */
export function isolatedMongoUrl(prefix: string): string {
  const url = new URL(stackEnv('EDGEPORT_MONGO_URL'));
  url.pathname = `/${uniqueName(prefix).replaceAll('-', '_')}`;
  return url.href;
}

/**
 * The worker's pool clients over the test stack's MongoDB (pools `local` and `edge-1` are registered by the
 * stack's seed): tests run activities against the pool a VDC lives on, as the worker does.
 */
export function testPoolClients(store: Store): PoolClients {
  return createPoolClients({ store, credentials: credentialCipher(stackEnv('EDGEPORT_CREDENTIALS_KEY')) });
}
