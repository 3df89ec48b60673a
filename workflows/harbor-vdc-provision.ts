import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { HARBOR_PROVISION_FAILURES, type HarborVdcProvisionInput, type HarborVdcProvisionResult } from '../common/harbor-vdc-provision.ts';

/** One idempotent pass; Harbor outages retry it for a while (what was created already is found by the retry). */
const { provisionVdcRegistry } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: Object.values(HARBOR_PROVISION_FAILURES),
  },
});

/**
 * Harbor provisioning of one VDC (its projects and its robot account), started by the API when the VDC is created
 * with id `harborVdcProvisionId(vdcId)`. The robot secret is sealed by the activity; this history carries project
 * names, the robot's id, name and expiry only. With the local registry the activity does nothing.
 */
export async function harborVdcProvisionWorkflow(input: HarborVdcProvisionInput): Promise<HarborVdcProvisionResult> {
  return provisionVdcRegistry(input);
}
