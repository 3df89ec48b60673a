import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from './config.ts';
import { isAlive, procFiles, readPid, spawnDetached, stopPid, waitFor } from './proc.ts';
import type { ServerStatus, StackServer } from './server.ts';

/** The parts that differ between single-process servers; `processServer` supplies the rest. */
export interface ProcessServerSpec {
  name: string;
  order: number;
  version: string;
  install(cfg: StackConfig): Promise<void>;
  /** Command line to start the server; `dataDir` is this server's own folder (created beforehand). */
  command(cfg: StackConfig, dataDir: string): { cmd: string; args: string[]; env?: Record<string, string> };
  healthy(cfg: StackConfig): Promise<boolean>;
  endpoint(cfg: StackConfig): string;
  env(cfg: StackConfig): Record<string, string>;
  startTimeoutMs?: number;
}

/** Builds a StackServer for a server that is one long-running process with a pid file and a log. */
export function processServer(spec: ProcessServerSpec): StackServer {
  const serverDir = (cfg: StackConfig): string => join(cfg.dataDir, spec.name);
  return {
    name: spec.name,
    order: spec.order,
    version: spec.version,
    install: spec.install,
    env: spec.env,
    async start(cfg) {
      const files = procFiles(cfg.dataDir, spec.name);
      if (isAlive(readPid(files.pidFile)) && (await spec.healthy(cfg).catch(() => false))) return;
      await stopPid(files.pidFile);
      if (await spec.healthy(cfg).catch(() => false)) {
        throw new Error(
          `${spec.name}: ${spec.endpoint(cfg)} is already served by a process this stack did not start (no pid file in ${cfg.dataDir}); stop it or choose another EDGEPORT_PORT_BASE`,
        );
      }
      const dir = serverDir(cfg);
      mkdirSync(dir, { recursive: true });
      const { cmd, args, env } = spec.command(cfg, dir);
      const pid = spawnDetached(cmd, args, files, { cwd: dir, env });
      await waitFor(spec.name, () => spec.healthy(cfg), { timeoutMs: spec.startTimeoutMs ?? 60_000, logFile: files.logFile, pid });
    },
    async stop(cfg) {
      await stopPid(procFiles(cfg.dataDir, spec.name).pidFile);
    },
    async status(cfg): Promise<ServerStatus> {
      const pid = readPid(procFiles(cfg.dataDir, spec.name).pidFile);
      const running = isAlive(pid);
      return {
        name: spec.name,
        version: spec.version,
        running,
        healthy: running && (await spec.healthy(cfg).catch(() => false)),
        pid: running ? pid : undefined,
        endpoint: spec.endpoint(cfg),
        dataDir: serverDir(cfg),
      };
    },
  };
}
