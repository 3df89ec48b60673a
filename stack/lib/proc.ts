import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';

/** Where a stack server keeps its pid file and log. */
export interface ProcFiles {
  pidFile: string;
  logFile: string;
}

/** Server logs may hold what a server prints about its clients and requests: readable by this user only. */
export const LOG_DIR_MODE = 0o700;
export const LOG_FILE_MODE = 0o600;

export function procFiles(dataDir: string, name: string): ProcFiles {
  mkdirSync(join(dataDir, 'run'), { recursive: true });
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: LOG_DIR_MODE });
  // A folder made by an earlier version (or under another umask) is tightened too.
  chmodSync(join(dataDir, 'logs'), LOG_DIR_MODE);
  return { pidFile: join(dataDir, 'run', `${name}.pid`), logFile: join(dataDir, 'logs', `${name}.log`) };
}

/**
 * Starts a long-running server detached from this process (own process group, output appended to its
 * log) so it outlives the CLI that started it; the pid is written to `files.pidFile`.
 */
export function spawnDetached(cmd: string, args: readonly string[], files: ProcFiles, opts: { cwd?: string; env?: Record<string, string> } = {}): number {
  const fd = openSync(files.logFile, 'a', LOG_FILE_MODE);
  fchmodSync(fd, LOG_FILE_MODE);
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  child.unref();
  writeFileSync(files.pidFile, String(child.pid));
  return child.pid;
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True for a live process; an exited one not yet reaped (state Z) counts as gone. */
export function isAlive(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; removes the pid file. */
export async function stopPid(pidFile: string, graceMs = 10_000): Promise<void> {
  const pid = readPid(pidFile);
  if (isAlive(pid)) {
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        try {
          process.kill(pid, sig);
        } catch {
          /* already gone */
        }
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signal('SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile, { force: true });
}

/** Polls `check` until it returns true; throws with `what` and the log tail on timeout. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number; logFile?: string; pid?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not up yet */
    }
    if (opts.pid !== undefined && !isAlive(opts.pid)) throw new Error(`${what} exited during start-up${logTail(opts.logFile)}`);
    if (Date.now() > deadline) throw new Error(`${what} not healthy in time${logTail(opts.logFile)}`);
    await sleep(opts.intervalMs ?? 200);
  }
}

export function logTail(logFile: string | undefined, lines = 30): string {
  if (!logFile || !existsSync(logFile)) return '';
  return `\n--- ${logFile} (tail) ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')}`;
}

/** True when something accepts TCP connections on host:port. */
export async function tcpOpen(host: string, port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Runs a command to completion, returning stdout; throws with stderr on a non-zero exit. */
export async function run(cmd: string, args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; inherit?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', opts.inherit ? 'inherit' : 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${err}`))));
  });
}
