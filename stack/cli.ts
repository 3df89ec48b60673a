import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createKubeClients } from '../infra/kube/client.ts';
import { openStore } from '../store/index.ts';
import { appEnv } from './lib/app-env.ts';
import { startApp, waitForApi, waitForWorker } from './lib/apps.ts';
import { loadStackConfig, TEST_API_LANES, type Profile, type StackConfig } from './lib/config.ts';
import { withLock } from './lib/lock.ts';
import { logTail, procFiles, run } from './lib/proc.ts';
import { isSecretEnv, logHygieneProblems, pullCredentialSecrets, stackSecrets, type NamedSecret } from './lib/log-hygiene.ts';
import { DEMO_USERS } from './oidc/demo-users.ts';
import { seedDemoThroughApi, type DemoSeedSummary } from './demo.ts';
import { seedDemo, stackPools } from './seed.ts';
import { SERVERS } from './servers/index.ts';
import { writeWorkflowBundle } from '../worker/bundle.ts';
import { buildApps } from './lib/app-build.ts';
import { laneMongoUrl } from './testing/lanes.ts';

const USAGE = `usage: stack <command> [--profile dev|test]
  up       install what is missing and start every local server (health-checked)
  down     stop every server of the profile
  status   version, health, pid, endpoint and data folder of each server
  logs N   tail the log of server N, or of each of its parts (kubernetes-edge-1, edge-1-kube-apiserver, …)
  env      print the environment the api, worker and tests use (secrets masked; --show-secrets)
  seed     write the test fixtures straight into the stores (the domain, VDCs, namespaces, role bindings tests use)
  demo     seed the demo through the HTTP API of a running api + worker (what npm start does; idempotent)
  start    up + build the portal + run api and worker + seed the demo through the API (npm start)
  test     fresh test stack + seed + every test (npm test)`;

const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = Date.now();
  const r = await fn();
  console.error(`  ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
};

async function up(cfg: StackConfig): Promise<void> {
  await timed('install', () => Promise.all(SERVERS.map((s) => s.install(cfg))));
  const orders = [...new Set(SERVERS.map((s) => s.order))].sort((a, b) => a - b);
  for (const order of orders) {
    await Promise.all(SERVERS.filter((s) => s.order === order).map((s) => timed(`start ${s.name}`, () => s.start(cfg))));
  }
}

async function down(cfg: StackConfig): Promise<void> {
  await Promise.all([...SERVERS].reverse().map((s) => s.stop(cfg)));
}

async function status(cfg: StackConfig): Promise<void> {
  const rows = await Promise.all(SERVERS.map((s) => s.status(cfg)));
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(width)} ${(r.healthy ? 'healthy' : r.running ? 'UNHEALTHY' : 'stopped').padEnd(9)} pid ${String(r.pid ?? '-').padEnd(8)} ${r.endpoint}\n${''.padEnd(width)} ${r.version}; data ${r.dataDir}`,
    );
  }
}

async function seed(cfg: StackConfig, mongoUrl?: string): Promise<void> {
  const env = appEnv(cfg);
  const store = await openStore(mongoUrl ?? (env.EDGEPORT_MONGO_URL as string));
  try {
    await seedDemo(store, createKubeClients(env.EDGEPORT_KUBECONFIG as string), stackPools(env));
  } finally {
    await store.close();
  }
}

/** Seeds the demo through the running API (`stack/demo.ts`) and prints what it did. */
async function demo(cfg: StackConfig): Promise<DemoSeedSummary> {
  const env = appEnv(cfg);
  const summary = await seedDemoThroughApi({ baseUrl: env.EDGEPORT_PUBLIC_URL as string, env, log: (l) => console.error(`  demo: ${l}`) });
  const states = Object.entries(summary.tickets)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  console.error(`  demo: ${summary.created} object(s) created; tickets: ${states || 'none'}`);
  return summary;
}

/** Builds the portal when its sources are newer than the last build. */
async function buildPortal(cfg: StackConfig): Promise<void> {
  const dist = join(cfg.repoDir, 'portal', 'dist', 'index.html');
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  const srcTime = Math.max(newest(join(cfg.repoDir, 'portal', 'src')), statSync(join(cfg.repoDir, 'portal', 'index.html')).mtimeMs);
  if (existsSync(dist) && statSync(dist).mtimeMs > srcTime) return;
  await run(join(cfg.repoDir, 'node_modules', '.bin', 'vite'), ['build', '--config', join(cfg.repoDir, 'portal', 'vite.config.ts'), '--logLevel', 'warn'], {
    cwd: cfg.repoDir,
    inherit: true,
  });
}

async function start(cfg: StackConfig): Promise<void> {
  const t0 = Date.now();
  await up(cfg);
  await timed('portal build', () => buildPortal(cfg));
  const env = appEnv(cfg);
  const worker = startApp(cfg.repoDir, 'worker', env, { inherit: true });
  const api = startApp(cfg.repoDir, 'api', env, { inherit: true });
  await Promise.all([waitForWorker(worker), waitForApi(api, env.EDGEPORT_PUBLIC_URL as string)]);
  // The demo is seeded the way an operator would build it: over HTTP, after api and worker are up.
  const seeded = await timed('demo seed (through the API)', () => demo(cfg)).then(
    (s) => (s.mismatches.length > 0 ? `demo seeded with ${s.mismatches.length} ticket(s) not as planned (see above)` : 'demo seeded'),
    (err: unknown) => `DEMO SEED FAILED: ${err instanceof Error ? err.message : String(err)} (the stack runs; retry with: npm run stack -- demo)`,
  );
  console.log(`
Edgeport is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${seeded})
  Portal       ${env.EDGEPORT_PUBLIC_URL}/
  Temporal UI  ${env.EDGEPORT_TEMPORAL_UI_URL}
  OIDC issuer  ${env.EDGEPORT_OIDC_ISSUER}
  Demo logins (demo passwords, local only):
${DEMO_USERS.map((u) => `    ${u.username.padEnd(9)} ${u.password.padEnd(20)} ${u.name}`).join('\n')}
  Stop api/worker with Ctrl-C; stop the servers with: npm run stack -- down
`);
  const stop = async (): Promise<void> => {
    await Promise.all([api.stop(), worker.stop()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  await new Promise<void>((resolve) => {
    api.child.once('exit', () => resolve());
    worker.child.once('exit', () => resolve());
  });
  console.error('api or worker exited; stopping the other');
  await Promise.all([api.stop(), worker.stop()]);
  process.exit(1);
}

/** Runs a command in the repo; with `label`, each output line is prefixed (several streams share the terminal). */
function runStream(cfg: StackConfig, cmd: string, args: string[], env: NodeJS.ProcessEnv, label?: string): Promise<number> {
  const t0 = Date.now();
  return new Promise<number>((resolve) => {
    const child = spawn(cmd, args, { cwd: cfg.repoDir, env, stdio: label ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (label) {
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream?.on('data', (d: Buffer) => {
          const lines = (rest + d.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) process.stdout.write(`[${label}] ${line}\n`);
        });
        stream?.on('end', () => rest && process.stdout.write(`[${label}] ${rest}\n`));
      }
    }
    child.on('close', (code) => {
      if (label) console.error(`  ${label}: exit ${code ?? 1} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      resolve(code ?? 1);
    });
  });
}

/**
 * Runs the tests, then checks the profile's logs folder once every server has stopped: modes 0700/0600 and no
 * secret the stack generated in any file (a problem fails the run, naming the file and the secret, not its value).
 */
async function test(cfg: StackConfig, vitestArgs: string[]): Promise<number> {
  const pulled: NamedSecret[] = [];
  const code = await testRun(cfg, vitestArgs, async () => {
    // Read while the clusters still run: the pull credentials the worker generated live only there (and sealed in MongoDB).
    pulled.push(...(await pullCredentialSecrets(cfg).catch((err: unknown) => (console.error(`logs: pull credentials not read: ${String(err)}`), []))));
  });
  const problems = logHygieneProblems(join(cfg.dataDir, 'logs'), [...stackSecrets(cfg), ...pulled]);
  if (problems.length === 0) {
    console.log(`logs: ${join(cfg.dataDir, 'logs')} is 0700, its files 0600, and none of ${pulled.length} pull credentials or the stack's secrets is in them`);
    return code;
  }
  for (const p of problems) console.error(`logs: ${p}`);
  return code !== 0 ? code : 1;
}

async function testRun(cfg: StackConfig, vitestArgs: string[], beforeDown: () => Promise<void>): Promise<number> {
  await down(cfg).catch(() => undefined);
  rmSync(cfg.dataDir, { recursive: true, force: true, maxRetries: 5 });
  // Extra arguments select tests (e.g. `npm test -- api/`); a full run also lints, while the stack starts.
  const full = vitestArgs.length === 0;
  const lint = full ? runStream(cfg, 'npm', ['run', '--silent', 'lint'], process.env, 'lint') : Promise.resolve(0);
  try {
    await up(cfg);
    await timed('seed', () => seed(cfg));
    await timed('portal build', () => buildPortal(cfg));
    // The workflows are bundled once per run; every test worker (spawned or in-process) and replay loads it.
    const bundle = join(cfg.dataDir, 'workflow-bundle.js');
    await timed('workflow bundle', () => writeWorkflowBundle(bundle));
    // So are the api and the worker: spawned test processes run the compiled files (stack/lib/app-build.ts).
    const built = await timed('app build', () => buildApps(cfg.repoDir));
    const env = { ...process.env, ...appEnv(cfg), EDGEPORT_WORKFLOW_BUNDLE: bundle, EDGEPORT_APP_BUILD: dirname(built.files.api) };
    const vitestBin = join(cfg.repoDir, 'node_modules', '.bin', 'vitest');
    const vitest = (args: string[], label?: string): Promise<number> => runStream(cfg, vitestBin, ['run', ...args], env, label);
    // Parallel node files run on test lanes, each with its own database, seeded like the main one (stack/testing/lanes.ts).
    const workers = Math.min(Number(process.env.EDGEPORT_TEST_WORKERS ?? '3'), TEST_API_LANES);
    await timed('seed lanes', () =>
      Promise.all(Array.from({ length: workers }, (_, i) => seed(cfg, laneMongoUrl(appEnv(cfg).EDGEPORT_MONGO_URL as string, i + 1)))),
    );
    const laneEnv = { ...env, EDGEPORT_TEST_API_LANES: String(TEST_API_LANES) };
    // Selected files (`npm test -- api/spaces.test.ts`): node files on lanes, exclusive and e2e ones on the stack's port.
    if (!full) return await runStream(cfg, vitestBin, ['run', `--maxWorkers=${workers}`, ...vitestArgs], laneEnv);
    // Two streams side by side: the files that share the stack run in parallel (EDGEPORT_TEST_WORKERS at a
    // time), while the files that hold the API port run one at a time, then the browser tests (which need it too).
    const [shared, exclusive, lintCode] = await Promise.all([
      runStream(
        cfg,
        vitestBin,
        ['run', '--project', 'node', '--project', 'portal', `--maxWorkers=${workers}`],
        { ...env, EDGEPORT_TEST_API_LANES: String(TEST_API_LANES) },
        'shared',
      ),
      vitest(['--project', 'node-exclusive'], 'exclusive').then(async (code) => {
        const e2e = await vitest(['--project', 'e2e'], 'e2e');
        return code !== 0 ? code : e2e;
      }),
      lint,
    ]);
    return [lintCode, shared, exclusive].find((c) => c !== 0) ?? 0;
  } finally {
    await lint;
    await beforeDown();
    if (process.env.EDGEPORT_KEEP_STACK !== 'true') await down(cfg);
  }
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const pIdx = args.indexOf('--profile');
  const profileArg = pIdx >= 0 ? args.splice(pIdx, 2)[1] : undefined;
  const [cmd, ...rest] = args;
  const profile: Profile = (profileArg as Profile | undefined) ?? (cmd === 'test' ? 'test' : 'dev');
  if (profile !== 'dev' && profile !== 'test') throw new Error(`unknown profile ${profile}`);
  const cfg = loadStackConfig(profile);
  switch (cmd) {
    case 'up':
      await up(cfg);
      await status(cfg);
      return 0;
    case 'down':
      await down(cfg);
      return 0;
    case 'status':
      await status(cfg);
      return 0;
    case 'logs': {
      const name = rest[0] ?? '';
      const parts = SERVERS.find((s) => s.name === name)?.parts?.(cfg) ?? [name];
      for (const part of parts) {
        const file = procFiles(cfg.dataDir, part).logFile;
        if (!existsSync(file))
          throw new Error(`no log for ${part}; servers: ${SERVERS.map((s) => s.name).join(', ')} (and their parts, e.g. edge-1-kube-apiserver)`);
        console.log(logTail(file, Number(rest[1] ?? 100)) || readFileSync(file, 'utf8'));
      }
      return 0;
    }
    case 'env':
      // Secrets are masked unless asked for explicitly (e.g. to export them into a shell).
      for (const [k, v] of Object.entries(appEnv(cfg))) console.log(`${k}=${isSecretEnv(k) && !rest.includes('--show-secrets') ? '<secret>' : v}`);
      return 0;
    case 'seed':
      await seed(cfg);
      return 0;
    case 'demo':
      return (await demo(cfg)).mismatches.length > 0 ? 1 : 0;
    case 'start':
      await start(cfg);
      return 0;
    case 'test':
      return withLock(join(cfg.cacheDir, 'locks', `test-stack-${cfg.ports.temporal}.lock`), 'another test run on these ports', () => test(cfg, rest));
    default:
      console.error(USAGE);
      return cmd ? 2 : 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
