import { log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { VOLUME_ERRORS, type LiveClaim } from '../common/volumes.ts';

/** Someone waits on these (direct actions of the volume API): quick retries of transient faults only. */
const { applyVolume, deleteVolume, listClaims } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '3s',
    maximumAttempts: 4,
    nonRetryableErrorTypes: ['KubernetesRefused', VOLUME_ERRORS.inUse, VOLUME_ERRORS.exists],
  },
});

/** The ledger write: retried for a while; if it still fails the volume change stands and verify reports the line missing. */
const { recordVolumeLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 8 },
});

/** Patch ids. `volume-ledger`: after an apply or delete, the run writes its `volume.storage` line from its own history. */
export const VOLUME_PATCHES = { ledger: 'volume-ledger' } as const;

async function meter(): Promise<void> {
  if (!patched(VOLUME_PATCHES.ledger)) return;
  try {
    await recordVolumeLedger({ workflowId: workflowInfo().workflowId });
  } catch (err) {
    log.warn('volume ledger line not written; ledger verify will report it missing', { error: err instanceof Error ? err.message : String(err) });
  }
}

/** Creates or expands a standalone volume to what its record says (ids only in the history); metered. */
export async function volumeApplyWorkflow(vdcId: string, namespace: string, name: string): Promise<{ size: string }> {
  const { size } = await applyVolume({ vdcId, namespace, name });
  await meter();
  return { size };
}

/** Deletes a standalone volume unless something mounts it (storage rule `volume-in-use`); metered at 0 from then. */
export async function volumeDeleteWorkflow(vdcId: string, namespace: string, name: string): Promise<void> {
  await deleteVolume({ vdcId, namespace, name });
  await meter();
}

/** The claims of a VDC's namespaces as the cluster has them now, with who mounts each. */
export async function volumeListWorkflow(namespaces: string[]): Promise<LiveClaim[]> {
  return listClaims({ namespaces });
}
