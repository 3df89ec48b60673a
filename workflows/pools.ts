import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { POOL_FAILURES, type NodeView, type PoolCheckResult, type PoolOverviewResult } from '../common/pool-workflows.ts';

const NON_RETRYABLE = [
  POOL_FAILURES.credentialsRefused,
  POOL_FAILURES.notFound,
  POOL_FAILURES.credentialsUnreadable,
  POOL_FAILURES.nodeNotFound,
  'KubernetesRefused',
];

/** The check records its own outcome; only a failed MongoDB write is worth a retry (each request has a 5 s timeout). */
const { checkPool } = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Interactive reads and the cordon patch: someone is waiting, so one quick retry of a transient fault at most. */
const { readPoolOverview, listPoolNodes, setNodeSchedulable } = proxyActivities<Activities>({
  startToCloseTimeout: '25s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Registration check of a pool stored in `checking`: reachability, version and readiness, recorded on the
 * pool by the activity. Credentials refused by the cluster are an outcome (`refused`), not a failure.
 * Input is the pool id only; the credentials never enter this history.
 */
export async function registerPoolWorkflow(poolId: string): Promise<PoolCheckResult> {
  try {
    return await checkPool({ poolId });
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === POOL_FAILURES.credentialsRefused) {
      return { status: 'refused', reason: cause.message, checkMs: 0 };
    }
    throw err;
  }
}

/** Node counts, component health and capacity of one pool, read through its own credentials. */
export async function poolOverviewWorkflow(poolId: string): Promise<PoolOverviewResult> {
  return readPoolOverview({ poolId });
}

/** The pool's nodes with status, pods, labels, schedulability and architecture. */
export async function nodeListWorkflow(poolId: string): Promise<NodeView[]> {
  return listPoolNodes({ poolId });
}

/**
 * Cordon (`schedulable: false`) or uncordon one node. Draining a node (evicting its pods) is a ticket of
 * the request engine, not this workflow.
 */
export async function setNodeSchedulableWorkflow(poolId: string, node: string, schedulable: boolean): Promise<NodeView> {
  return setNodeSchedulable({ poolId, node, schedulable });
}
