import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { HARBOR_REGISTRY_FAILURES, type BrowseHarborQuery, type HarborBrowseResult, type HarborRegistryCheckResult } from '../common/harbor-registries.ts';

const NON_RETRYABLE = Object.values(HARBOR_REGISTRY_FAILURES);

/** Someone is waiting on each of these: a transient fault (network, 5xx) is retried twice, quickly. */
const { checkHarborRegistry, browseHarborRegistry } = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * The save check of a third-party Harbor stored in `checking`: its projects listed with the stored credentials,
 * recorded on the registry by the activity. Input is the registry id only; the secret never enters this history.
 */
export async function checkHarborRegistryWorkflow(registryId: string): Promise<HarborRegistryCheckResult> {
  return checkHarborRegistry({ registryId });
}

/** One level of a connected registry (projects, a project's repositories, a repository's tags). */
export async function browseHarborRegistryWorkflow(registryId: string, query: BrowseHarborQuery): Promise<HarborBrowseResult> {
  return browseHarborRegistry({ registryId, ...query });
}
