import { createServer } from 'node:net';
import { startApp, waitForApi, type AppProcess } from '../lib/apps.ts';
import { appEnvFromProcess, stackEnv } from './env.ts';

const repoDir = new URL('../..', import.meta.url).pathname;

/** A port the OS just handed out on 127.0.0.1 (free at the time of asking). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface TestApi {
  base: string;
  process: AppProcess;
  stop(): Promise<void>;
}

/**
 * Starts an api process against the test stack with extra settings. Without `port` it listens on the
 * stack's API port (the OIDC callback URL, needed to log in); with `port: 'free'` on another port, for a
 * second api with different settings sharing the same sessions (Redis) and data (MongoDB).
 */
export async function startTestApi(extra: Record<string, string> = {}, opts: { port?: 'stack' | 'free' } = {}): Promise<TestApi> {
  const env = appEnvFromProcess();
  let base = stackEnv('EDGEPORT_PUBLIC_URL');
  if (opts.port === 'free') {
    const port = await freePort();
    env.EDGEPORT_API_PORT = String(port);
    base = `http://127.0.0.1:${port}`;
  }
  const p = startApp(repoDir, 'api', { ...env, ...extra });
  await waitForApi(p, base);
  return { base, process: p, stop: () => p.stop() };
}
