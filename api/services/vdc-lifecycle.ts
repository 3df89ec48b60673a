import type { Client } from '@temporalio/client';
import { VDC_LIFECYCLE_SIGNAL, VDC_LIFECYCLE_WORKFLOW, vdcLifecycleId, type VdcLifecycleAction, type VdcLifecycleRequest } from '../../common/vdc-lifecycle.ts';
import type { Actor, RoleBinding } from '../../common/roles.ts';
import type { VdcStore } from '../../store/vdcs.ts';
import type { vdcLifecycleWorkflow } from '../../workflows/vdc-lifecycle.ts';

/** Sends requests to VDCs' lifecycle workflows (see `workflows/vdc-lifecycle.ts`). */
export interface VdcLifecycle {
  /**
   * Signal-with-start of `vdcLifecycleWorkflow` (id `vdc-lifecycle-<vdcId>`): a running workflow queues the request
   * and handles it after its current pass; otherwise a new run starts with it. Returns without waiting for it.
   * Throws when Temporal cannot be reached (nothing was requested then).
   */
  request(vdcId: string, action: VdcLifecycleAction, actor?: Actor, extra?: Pick<VdcLifecycleRequest, 'rotationId'>): Promise<{ workflowId: string }>;
}

export function vdcLifecycle(deps: { temporal: Client; taskQueue: string }): VdcLifecycle {
  return {
    async request(vdcId, action, actor, extra) {
      const workflowId = vdcLifecycleId(vdcId);
      const req: VdcLifecycleRequest = { action, ...(actor ? { actor } : {}), ...(extra?.rotationId ? { rotationId: extra.rotationId } : {}) };
      await deps.temporal.workflow.signalWithStart<typeof vdcLifecycleWorkflow, [VdcLifecycleRequest]>(VDC_LIFECYCLE_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        // The request travels as the signal only, whether the run is new or running (never handled twice).
        args: [{ vdcId, pending: [] }],
        signal: VDC_LIFECYCLE_SIGNAL,
        signalArgs: [req],
      });
      return { workflowId };
    },
  };
}

/**
 * The VDCs whose namespaces' RoleBindings a change of role bindings touches: a VDC-scoped binding touches its
 * VDC, a domain-scoped one (domain admins are `admin` in every namespace of the domain) every VDC of the domain.
 */
export async function vdcsTouchedBy(changed: readonly RoleBinding[], vdcs: Pick<VdcStore, 'listInDomain'>): Promise<string[]> {
  const ids = new Set<string>();
  for (const b of changed) {
    if (b.scope.type === 'vdc') ids.add(b.scope.vdcId);
    else if (b.scope.type === 'domain') for (const v of await vdcs.listInDomain(b.scope.domainId)) ids.add(v._id);
  }
  return [...ids].sort();
}
