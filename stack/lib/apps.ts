import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running api or worker process started by the CLI or by a test. */
export interface AppProcess {
  name: 'api' | 'worker';
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGKILL (a crash) or SIGTERM (graceful); resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `api/main.ts` or `worker/main.ts` with the given environment: under tsx, or, when EDGEPORT_APP_BUILD
 * names a folder built by `buildApps` (the test runner sets it), its compiled file under plain node. With
 * `inherit`, output goes to this terminal (prefixed); otherwise it is kept in memory for tests.
 */
export function startApp(repoDir: string, name: 'api' | 'worker', env: Record<string, string>, opts: { inherit?: boolean } = {}): AppProcess {
  const built = env.EDGEPORT_APP_BUILD ?? process.env.EDGEPORT_APP_BUILD;
  const [cmd, args] = built
    ? [process.execPath, ['--enable-source-maps', join(built, `${name}.mjs`)]]
    : [join(repoDir, 'node_modules', '.bin', 'tsx'), [join(repoDir, name, 'main.ts')]];
  const child = spawn(cmd, args, {
    cwd: repoDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    if (opts.inherit) for (const line of d.toString().split('\n').filter(Boolean)) process.stdout.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
      await exited;
    },
  };
}

/** Waits until the API answers /healthz, or throws with the process output. */
export async function waitForApi(app: AppProcess, baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) throw new Error(`api exited:\n${app.output()}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  throw new Error(`api not healthy in ${timeoutMs} ms:\n${app.output()}`);
}

/** Waits until the worker logged that it polls its task queue. */
export async function waitForWorker(app: AppProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) throw new Error(`worker exited:\n${app.output()}`);
    if (app.output().includes('worker started')) return;
    await sleep(200);
  }
  throw new Error(`worker not ready in ${timeoutMs} ms:\n${app.output()}`);
}
