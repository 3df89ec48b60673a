import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { CONFIG_FAILURES, type ConfigKind } from '../common/config-items.ts';

/** Someone is waiting on the API: a few quick retries of a transient fault, refusals are final. */
const { applyConfigItem, deleteConfigItem } = proxyActivities<Activities>({
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '3s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [CONFIG_FAILURES.stale, CONFIG_FAILURES.unreadable, 'KubernetesRefused'],
  },
});

/**
 * Applies one stored revision of a ConfigMap or Secret to its namespace. The input is the record id and
 * revision only: the activity loads (and, for a Secret, opens) the values in the worker, so no value
 * enters this history.
 */
export async function applyConfigItemWorkflow(id: string, revision: number): Promise<{ applied: string }> {
  return applyConfigItem({ id, revision });
}

/** Deletes a config center ConfigMap or Secret from its namespace (absent = done). */
export async function deleteConfigItemWorkflow(namespace: string, kind: ConfigKind, name: string): Promise<{ deleted: boolean }> {
  return deleteConfigItem({ namespace, kind, name });
}
