import type { Client } from '@temporalio/client';
import { HARBOR_VDC_PROVISION_WORKFLOW, harborVdcProvisionId } from '../../common/harbor-vdc-provision.ts';
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
      await deps.temporal.workflow.start<typeof harborVdcProvisionWorkflow>(HARBOR_VDC_PROVISION_WORKFLOW, { taskQueue: deps.taskQueue, workflowId, args: [{ vdcId }], workflowIdConflictPolicy: 'USE_EXISTING' });
      return { workflowId };
    },
  };
}
