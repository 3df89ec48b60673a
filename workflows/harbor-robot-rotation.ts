import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { HARBOR_ROBOT_FAILURES, type HarborRobotRotationInput, type HarborRobotRotationResult } from '../common/harbor-robot-rotation.ts';

/** One pass over the registry; a transient fault retries the pass (robots already rotated are then far from expiry). */
const { rotateExpiringHarborRobots } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: Object.values(HARBOR_ROBOT_FAILURES),
  },
});

/**
 * Scheduled rotation of the Harbor robot accounts per VDC (started per interval by the worker's BullMQ job
 * scheduler with id `harborRobotRotationId(start)`, so an interval rotates once). The new secrets are sealed by
 * the activity; this history carries counts, robot ids and expiries only.
 */
export async function harborRobotRotationWorkflow(input: HarborRobotRotationInput): Promise<HarborRobotRotationResult> {
  return rotateExpiringHarborRobots(input);
}
