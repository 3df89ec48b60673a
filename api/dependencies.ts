import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { checkReadiness, type CheckResult, type DependencyCheck, type DependencyName } from '../services/readiness.ts';
import { DependencyUnavailableError } from './errors.ts';

/** The gRPC error of a Temporal client failure: thrown as is, or as the cause of the client's ServiceError. */
function grpcErrorOf(err: unknown): { code: number } | undefined {
  if (isGrpcServiceError(err)) return err;
  return err instanceof ServiceError && isGrpcServiceError(err.cause) ? err.cause : undefined;
}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * The dependency an unexpected error comes from, when it says the dependency is unreachable or too slow
 * (as opposed to a bug or bad data): MongoDB driver network and server-selection errors, ioredis connection
 * and command-timeout errors, Temporal gRPC UNAVAILABLE / DEADLINE_EXCEEDED.
 */
export function dependencyOfError(err: unknown): DependencyName | undefined {
  if (!(err instanceof Error)) return undefined;
  if (/^Mongo(ose)?(ServerSelection|Network|NetworkTimeout|TopologyClosed|OperationTimeout|NotConnected)Error$/.test(err.name)) return 'mongodb';
  if (err.name === 'MongooseError' && /buffering timed out|before initial connection/.test(err.message)) return 'mongodb';
  if (err.name === 'MaxRetriesPerRequestError' || /^(Connection is closed\.|Command timed out|Stream isn't writeable)/.test(err.message)) return 'redis';
  const grpc = grpcErrorOf(err);
  if (grpc && (grpc.code === GRPC_UNAVAILABLE || grpc.code === GRPC_DEADLINE_EXCEEDED)) return 'temporal';
  return undefined;
}

/** Whether a Temporal call failed before reaching the server (connection refused: the call surely did nothing). */
export function temporalUnreachable(err: unknown): boolean {
  return grpcErrorOf(err)?.code === GRPC_UNAVAILABLE;
}

export interface DependencyMonitor {
  /** The last result of each check (undefined before the first round). */
  state(name: DependencyName): CheckResult | undefined;
  /** No more rounds; resolves when the round in flight has ended (close the clients only after). */
  stop(): Promise<void>;
}

/** Consecutive timed-out checks after which a dependency counts as down (a refusal counts at once). */
const SLOW_ROUNDS_TO_DOWN = 2;

/**
 * Checks the dependencies every `everyMs` (each check bounded by `timeoutMs`) so requests can be refused at
 * once while one is down, instead of each waiting for its own timeout and piling up behind a dead server.
 * A dependency that refuses (connection refused or closed) is down at once; one that is only slow is down
 * after {@link SLOW_ROUNDS_TO_DOWN} timed-out rounds in a row, so a busy server (a long check on a loaded
 * machine) does not turn every request into a 503.
 */
export function dependencyMonitor(checks: DependencyCheck[], o: { everyMs: number; timeoutMs: number }): DependencyMonitor {
  const last = new Map<DependencyName, CheckResult>();
  const slowRounds = new Map<DependencyName, number>();
  let current: Promise<void> | undefined;
  const round = (): void => {
    if (current) return;
    current = checkReadiness(checks, o.timeoutMs)
      .then((r) => {
        for (const [key, result] of Object.entries(r.checks)) {
          const name = key as DependencyName;
          const slow = result.timedOut ? (slowRounds.get(name) ?? 0) + 1 : 0;
          slowRounds.set(name, slow);
          // A first slow round keeps the previous verdict (up, or down while it stays unreachable).
          if (result.timedOut && slow < SLOW_ROUNDS_TO_DOWN && last.get(name)?.ok !== false) continue;
          last.set(name, result);
        }
      })
      .finally(() => {
        current = undefined;
      });
  };
  round();
  const timer = setInterval(round, o.everyMs);
  timer.unref();
  return {
    state: (name) => last.get(name),
    stop: async () => {
      clearInterval(timer);
      await current;
    },
  };
}

/** Refuses the request with a 503 naming the first of `names` the monitor last saw down. */
export function requireDependencies(monitor: DependencyMonitor, names: DependencyName[]): RequestHandler {
  return (_req, _res, next) => {
    const down = names.find((n) => monitor.state(n)?.ok === false);
    next(down ? new DependencyUnavailableError(down) : undefined);
  };
}
