import { laneNamespace } from '../lib/config.ts';

/**
 * Test lanes: what one vitest worker of the parallel `node` project gets to itself, so its files can run
 * beside the other workers' files and beside the exclusive stream without seeing each other:
 * - an API port (`api + lane`; registered as a redirect URI at the test OpenID provider, so users can sign in),
 * - a task queue and a Temporal namespace (workflows started by its api run only on its own workers, which
 *   tests arm with failpoints or kill on purpose; ledger verify reads the whole namespace),
 * - a MongoDB database (`<db>_lane<N>`, seeded like the main one by `stack/cli.ts test`): demo users' role
 *   bindings, price books, the audit chain, whole-ledger verdicts and the ticket reconciler stay per lane,
 * - a Redis database (sessions, BullMQ report and verify queues).
 * Shared by all: the Temporal server, the clusters (tests use unique namespace and node names) and the
 * registry, whose token service and notifications point at the stack's own API port; files that need those
 * stay exclusive (`groups.ts`).
 */
export interface LaneEnv {
  EDGEPORT_API_PORT: string;
  EDGEPORT_PUBLIC_URL: string;
  EDGEPORT_TASK_QUEUE: string;
  EDGEPORT_TEMPORAL_NAMESPACE: string;
  EDGEPORT_MONGO_URL: string;
  EDGEPORT_REDIS_URL: string;
  EDGEPORT_TEST_LANE: string;
}

/** The main database's URL with the lane's database name. */
export function laneMongoUrl(mongoUrl: string, lane: number): string {
  const url = new URL(mongoUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '') || '/edgeport'}_lane${lane}`;
  return url.href;
}

/** The lane's settings, derived from the stack's environment. */
export function laneEnv(env: Readonly<Record<string, string | undefined>>, lane: number): LaneEnv {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set: run the tests through stack/cli.ts test`);
    return v;
  };
  const port = Number(need('EDGEPORT_API_PORT')) + lane;
  const host = new URL(need('EDGEPORT_PUBLIC_URL')).hostname;
  const redis = new URL(need('EDGEPORT_REDIS_URL'));
  redis.pathname = `/${lane}`;
  return {
    EDGEPORT_API_PORT: String(port),
    EDGEPORT_PUBLIC_URL: `http://${host}:${port}`,
    EDGEPORT_TASK_QUEUE: `edgeport-tickets-lane-${lane}`,
    // Created by the test stack's Temporal server (stack/lib/config.ts laneNamespaces).
    EDGEPORT_TEMPORAL_NAMESPACE: laneNamespace(lane),
    EDGEPORT_MONGO_URL: laneMongoUrl(need('EDGEPORT_MONGO_URL'), lane),
    EDGEPORT_REDIS_URL: redis.href,
    EDGEPORT_TEST_LANE: String(lane),
  };
}
