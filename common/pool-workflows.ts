import type { NodeView, PoolOverview, PoolStatus, PoolVersion } from './pools.ts';

/**
 * Contract between the API and the resource-pool workflows. Inputs carry ids only: credentials are loaded
 * and decrypted inside the worker's activities, so no secret ever enters a workflow history.
 */

/** Failure type names of pool activities (non-retryable `ApplicationFailure`s); the API maps them to statuses. */
export const POOL_FAILURES = {
  /** The cluster answered 401/403 to the stored credentials. */
  credentialsRefused: 'PoolCredentialsRefused',
  /** No pool record with that id (deleted meanwhile). */
  notFound: 'PoolNotFound',
  /** The stored credentials cannot be decrypted (tampered record or unknown key id). */
  credentialsUnreadable: 'PoolCredentialsUnreadable',
  /** The named Node does not exist in the pool. */
  nodeNotFound: 'NodeNotFound',
  /** The pool's apiserver could not be reached (after the read's retries). */
  unreachable: 'PoolUnreachable',
} as const;

export interface PoolCheckResult {
  status: Exclude<PoolStatus, 'checking'>;
  reason?: string;
  version?: PoolVersion;
  checkMs: number;
}

export interface SetSchedulableInput {
  poolId: string;
  node: string;
  schedulable: boolean;
}

export type PoolOverviewResult = Omit<PoolOverview, 'pool'>;
export type { NodeView };

/** Workflow id of one short pool workflow: `pool-<id>-<purpose>-<random>`. */
export const poolWorkflowId = (poolId: string, purpose: 'register' | 'overview' | 'nodes' | 'cordon' | 'uncordon', random: string): string =>
  `pool-${poolId}-${purpose}-${random}`;
