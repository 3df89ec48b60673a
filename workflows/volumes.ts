import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { VOLUME_ERRORS, type LiveClaim } from '../common/volumes.ts';

/** Someone waits on these (direct actions of the volume API): quick retries of transient faults only. */
const { applyVolume, deleteVolume, listClaims } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '3s', maximumAttempts: 4, nonRetryableErrorTypes: ['KubernetesRefused', VOLUME_ERRORS.inUse, VOLUME_ERRORS.exists] },
});

/** Creates or expands a standalone volume to what its record says (ids only in the history). */
export async function volumeApplyWorkflow(vdcId: string, namespace: string, name: string): Promise<{ size: string }> {
  return applyVolume({ vdcId, namespace, name });
}

/** Deletes a standalone volume unless something mounts it (storage rule `volume-in-use`). */
export async function volumeDeleteWorkflow(vdcId: string, namespace: string, name: string): Promise<void> {
  await deleteVolume({ vdcId, namespace, name });
}

/** The claims of a VDC's namespaces as the cluster has them now, with who mounts each. */
export async function volumeListWorkflow(namespaces: string[]): Promise<LiveClaim[]> {
  return listClaims({ namespaces });
}
