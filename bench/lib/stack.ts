import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createKubeClients } from '../../infra/kube/client.ts';
import { appEnv } from '../../stack/lib/app-env.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../../stack/lib/apps.ts';
import { loadStackConfig, type StackConfig } from '../../stack/lib/config.ts';
import { seedDemo, stackPools } from '../../stack/seed.ts';
import { SERVERS } from '../../stack/servers/index.ts';
import { kubeLayout } from '../../stack/servers/kube/layout.ts';
import { components, startComponent, stopComponent } from '../../stack/servers/kube/processes.ts';
import { openStore } from '../../store/index.ts';

/**
 * A benchmark's own stack: the `test` profile's servers on their own ports and data folder, so a bench
 * never touches the dev stack or a test run. EDGEPORT_PORT_BASE / EDGEPORT_DATA_DIR override the defaults
 * (each bench has its own, so the two can run side by side).
 */
export function benchStackConfig(name: string, defaultPortBase: number, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const repoDir = resolve(import.meta.dirname, '..', '..');
  return loadStackConfig('test', {
    ...env,
    EDGEPORT_PORT_BASE: env.EDGEPORT_PORT_BASE ?? String(defaultPortBase),
    EDGEPORT_DATA_DIR: env.EDGEPORT_DATA_DIR ?? join(repoDir, '.edgeport', `bench-${name}`),
  });
}

const server = (name: string) => {
  const s = SERVERS.find((x) => x.name === name);
  if (!s) throw new Error(`no stack server ${name}`);
  return s;
};

/** Stops whatever ran on this profile, wipes its data folder, starts every server and seeds the demo data. */
export async function freshStack(cfg: StackConfig, log: (msg: string) => void = console.error): Promise<Record<string, string>> {
  await stopStack(cfg).catch(() => undefined);
  rmSync(cfg.dataDir, { recursive: true, force: true, maxRetries: 5 });
  const t0 = Date.now();
  await Promise.all(SERVERS.map((s) => s.install(cfg)));
  for (const order of [...new Set(SERVERS.map((s) => s.order))].sort((a, b) => a - b)) {
    await Promise.all(SERVERS.filter((s) => s.order === order).map((s) => s.start(cfg)));
  }
  const env = appEnv(cfg);
  const store = await openStore(env.EDGEPORT_MONGO_URL as string);
  try {
    await seedDemo(store, createKubeClients(env.EDGEPORT_KUBECONFIG as string), stackPools(env));
  } finally {
    await store.close();
  }
  log(`stack up and seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s (ports from ${cfg.ports.temporal}, data ${cfg.dataDir})`);
  return env;
}

export async function stopStack(cfg: StackConfig): Promise<void> {
  await Promise.all([...SERVERS].reverse().map((s) => s.stop(cfg)));
}

/** Stops the Temporal dev server (SIGTERM, as an operator restart would) and starts it again on the same SQLite file. */
export async function restartTemporal(cfg: StackConfig): Promise<void> {
  const t = server('temporal');
  await t.stop(cfg);
  await t.start(cfg);
}

/** The kube-apiserver alone (etcd, controllers and kwok keep running), for an outage. */
export function kubeApiserver(cfg: StackConfig): { stop(): Promise<void>; start(): Promise<void> } {
  const c = components(cfg, kubeLayout(cfg));
  return { stop: () => stopComponent(cfg, c.apiserver), start: () => startComponent(cfg, c.apiserver) };
}

/**
 * An api or worker process kept running: `kill()` SIGKILLs it and `restart()` starts a new one; an exit
 * nobody asked for is counted and the process restarted, so a crash of the process under test never
 * silently stops the scenario.
 */
/** Every descendant pid of `pid` (children first, then theirs), read from /proc. */
export function descendants(pid: number): number[] {
  const kids: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      kids.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    /* gone */
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/**
 * SIGKILLs an app process as a crash would: the Node process running the app (tsx's child) and everything
 * under it, then the tsx wrapper (which cannot relay a SIGKILL of its own).
 */
export async function crash(p: AppProcess): Promise<void> {
  if (p.child.pid !== undefined) {
    for (const d of descendants(p.child.pid).reverse()) {
      try {
        process.kill(d, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  await p.stop('SIGKILL');
}

export interface Supervised {
  current(): AppProcess;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts a new process and waits until it is ready. */
  restart(extraEnv?: Record<string, string>): Promise<void>;
  /** Exits not caused by `kill()`/`close()`, and the tail of the output of the last one. */
  unplannedExits(): { count: number; lastOutput: string };
  close(): Promise<void>;
}

export async function supervise(
  cfg: StackConfig,
  name: 'api' | 'worker',
  env: Record<string, string>,
  log: (msg: string) => void = console.error,
): Promise<Supervised> {
  let proc: AppProcess;
  let expectingExit = false;
  let closed = false;
  let restarting: Promise<void> | undefined;
  let unplanned = 0;
  let lastOutput = '';
  const ready = (p: AppProcess) => (name === 'api' ? waitForApi(p, env.EDGEPORT_PUBLIC_URL as string, 600_000) : waitForWorker(p, 900_000));
  const launch = async (extra: Record<string, string> = {}): Promise<void> => {
    proc = startApp(cfg.repoDir, name, { ...env, ...extra });
    const mine = proc;
    mine.child.once('exit', () => {
      if (expectingExit || closed || mine !== proc) return;
      unplanned++;
      lastOutput = mine.output().slice(-3000);
      log(`${name} exited unexpectedly (${mine.child.exitCode ?? mine.child.signalCode}); restarting`);
      restarting = launch().catch((err: unknown) => log(`${name} restart failed: ${String(err)}`));
    });
    await ready(mine);
  };
  await launch();
  return {
    current: () => proc,
    async kill() {
      await restarting;
      expectingExit = true;
      await crash(proc);
      expectingExit = false;
    },
    async restart(extra) {
      await launch(extra);
    },
    unplannedExits: () => ({ count: unplanned, lastOutput }),
    async close() {
      closed = true;
      await restarting;
      await proc.stop();
    },
  };
}
