import type { StackConfig } from './config.ts';

/** What `stack status` prints for one server. */
export interface ServerStatus {
  name: string;
  version: string;
  running: boolean;
  healthy: boolean;
  pid?: number;
  endpoint: string;
  dataDir: string;
}

/**
 * One local server of the stack. Each module in `stack/servers/` exports one of these; the CLI installs,
 * starts (in `order`), health-checks and stops them, and gathers `env()` for the api, worker and tests.
 */
export interface StackServer {
  name: string;
  /** Lower starts first; servers with the same order start in parallel. */
  order: number;
  version: string;
  /** Installs or builds what is missing into the version-keyed cache; fast when warm. */
  install(cfg: StackConfig): Promise<void>;
  /** Starts the server detached (pid file + log under the data folder) and resolves once healthy. No-op when already healthy. */
  start(cfg: StackConfig): Promise<void>;
  stop(cfg: StackConfig): Promise<void>;
  status(cfg: StackConfig): Promise<ServerStatus>;
  /** Log names of its processes when it is more than one (`stack logs <server>` tails each); default its own name. */
  parts?(cfg: StackConfig): string[];
  /** Connection settings the application processes read (EDGEPORT_* variables). */
  env(cfg: StackConfig): Record<string, string>;
}
