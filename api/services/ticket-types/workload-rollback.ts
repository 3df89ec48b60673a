import { WORKLOAD_ROLLBACK } from '../../../common/ticket-types/workload-rollback.ts';
import { WORKLOAD_WORKFLOW, type WorkloadInput } from '../../../common/workload-workflow.ts';
import { decideWorkloadRollback } from '../../../policies/workload.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';
import { poolDenial, workloadContext, workloadNamespace } from './workload-kit.ts';

export const workloadRollbackDef: TicketTypeDef<'workload-rollback'> = {
  spec: WORKLOAD_ROLLBACK,
  loadContext: workloadContext,
  decide: ({ payload, vdc }) =>
    poolDenial(payload.pool, payload.space, vdc) ??
    decideWorkloadRollback({
      name: payload.name,
      namespace: workloadNamespace(vdc, payload.space, payload.pool),
      ...(payload.revision !== undefined ? { revision: payload.revision } : {}),
      workloads: vdc.workloads ?? [],
      volumes: vdc.volumes ?? [],
    }),
  workflowType: WORKLOAD_WORKFLOW,
  workflowInput: (t): WorkloadInput => ({
    ...baseInput(t),
    action: 'rollback',
    namespace: workloadNamespace(t.vdc, t.payload.space, t.payload.pool),
    target: { name: t.payload.name, ...(t.payload.revision !== undefined ? { revision: t.payload.revision } : {}) },
  }),
};
