import { WorkflowFailedError, type Client } from '@temporalio/client';
import { HARBOR_VDC_PROVISION_WORKFLOW, harborVdcProvisionId } from '../../common/harbor-vdc-provision.ts';
import type { VdcStore } from '../../store/vdcs.ts';
import type { harborVdcProvisionWorkflow } from '../../workflows/harbor-vdc-provision.ts';

/** Starts the Harbor provisioning of VDCs (see `workflows/harbor-vdc-provision.ts`). */
export interface VdcRegistryProvisioning {
  /**
   * Starts `harborVdcProvisionWorkflow` for the VDC (id `harbor-vdc-provision-<vdcId>`; one already running is
   * reused) and returns without waiting for it. Throws when Temporal cannot be reached.
   */
  start(vdcId: string): Promise<{ workflowId: string }>;
}

/** With `EDGEPORT_REGISTRY_DRIVER=harbor` only: the worker's activity creates the projects and the robot. */
export function harborVdcProvisioning(deps: { temporal: Client; taskQueue: string }): VdcRegistryProvisioning {
  return {
    async start(vdcId) {
      const workflowId = harborVdcProvisionId(vdcId);
      await deps.temporal.workflow.start<typeof harborVdcProvisionWorkflow>(HARBOR_VDC_PROVISION_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ vdcId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { workflowId };
    },
  };
}

/**
 * Backfill for VDCs that existed before Harbor provisioning (or whose start failed): starts the provisioning of
 * the given VDCs, or of every VDC, one after the other, and waits for each result. Unknown ids are reported, not
 * started. Safe to repeat: every run is idempotent.
 */
export async function provisionVdcs(
  deps: { temporal: Client; taskQueue: string; vdcs: Pick<VdcStore, 'list'> },
  ids: string[] | 'all',
): Promise<{ vdcId: string; ok: boolean; workflowId?: string; error?: string }[]> {
  const provisioning = harborVdcProvisioning(deps);
  const found = await deps.vdcs.list(ids);
  const known = new Set(found.map((v) => v._id));
  const out: { vdcId: string; ok: boolean; workflowId?: string; error?: string }[] =
    ids === 'all' ? [] : ids.filter((id) => !known.has(id)).map((vdcId) => ({ vdcId, ok: false, error: 'no such VDC' }));
  for (const vdc of found) {
    try {
      const { workflowId } = await provisioning.start(vdc._id);
      await deps.temporal.workflow.getHandle(workflowId).result();
      out.push({ vdcId: vdc._id, ok: true, workflowId });
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? (err.cause?.cause ?? err.cause) : err;
      out.push({ vdcId: vdc._id, ok: false, error: cause instanceof Error ? cause.message : String(cause) });
    }
  }
  return out;
}
