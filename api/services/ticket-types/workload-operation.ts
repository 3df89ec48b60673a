import { WORKLOAD_OPERATION } from '../../../common/ticket-types/workload-operation.ts';
import { WORKLOAD_OPERATION_WORKFLOW, type WorkloadOperationInput } from '../../../common/workload-ops.ts';
import { decideWorkloadOperationTicket, recordedVolumeUsers, WORKLOAD_OPERATION_POLICY_VERSION } from '../../../policies/workload-operation.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';
import { poolDenial, workloadContext, workloadNamespace } from './workload-kit.ts';

/** Operations whose decision needs the live quota and day-2 state: refused as tickets submitted directly. */
const REPLICA_OPS: ReadonlySet<string> = new Set(['scale', 'stop', 'start']);

export const workloadOperationDef: TicketTypeDef<'workload-operation'> = {
  spec: WORKLOAD_OPERATION,
  loadContext: workloadContext,
  decide: ({ payload, vdc }) => {
    const denied = poolDenial(payload.pool, payload.space, vdc);
    if (denied) return denied;
    const namespace = workloadNamespace(vdc, payload.space, payload.pool);
    const workloads = vdc.workloads ?? [];
    const w = workloads.find((x) => x.namespace === namespace && x.name === payload.name);
    if (!w) return { version: WORKLOAD_OPERATION_POLICY_VERSION, outcome: 'deny', reason: `no workload ${payload.name} in ${namespace}`, field: 'name' };
    // Replica changes are decided on the live ResourceQuota and the remembered stop count, which only the
    // operations route reads; the policy never sends them to approval, so no legitimate ticket carries one.
    if (REPLICA_OPS.has(payload.operation.op)) {
      return {
        version: WORKLOAD_OPERATION_POLICY_VERSION,
        outcome: 'deny',
        reason: `${payload.operation.op} is applied through POST /api/vdcs/${vdc.id}/workloads/${namespace}/${payload.name}/operations (quota checked there), not as a ticket`,
        field: 'operation.op',
      };
    }
    return decideWorkloadOperationTicket({
      operation: payload.operation,
      namespace,
      spec: w.spec,
      dayTwo: {},
      workloads,
      perReplica: { cpu: 0, memoryGi: 0 },
      volumeUsers: recordedVolumeUsers(w.spec, namespace, workloads),
    });
  },
  workflowType: WORKLOAD_OPERATION_WORKFLOW,
  workflowInput: (t): WorkloadOperationInput => ({
    ...baseInput(t),
    namespace: workloadNamespace(t.vdc, t.payload.space, t.payload.pool),
    name: t.payload.name,
    operation: t.payload.operation,
  }),
};
