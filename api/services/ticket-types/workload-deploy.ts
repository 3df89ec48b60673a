import { WORKLOAD_DEPLOY } from '../../../common/ticket-types/workload-deploy.ts';
import { WORKLOAD_WORKFLOW, type WorkloadInput } from '../../../common/workload-workflow.ts';
import { decideWorkloadDeploy } from '../../../policies/workload.ts';
import { baseInput, type TicketTypeDef } from './kit.ts';
import { poolsOf, workloadContext, workloadNamespace } from './workload-kit.ts';

export const workloadDeployDef: TicketTypeDef<'workload-deploy'> = {
  spec: WORKLOAD_DEPLOY,
  loadContext: workloadContext,
  decide: ({ payload, vdc, requesterRoles }) =>
    decideWorkloadDeploy({
      spec: payload.workload,
      namespace: workloadNamespace(vdc, payload.workload.space, payload.workload.pool),
      spaces: vdc.spaces,
      workloads: vdc.workloads ?? [],
      volumes: vdc.volumes ?? [],
      requesterRoles,
      ...poolsOf(vdc),
    }),
  // The nodes are the worker's to read; but a workload pinned to one architecture tells it here already.
  images: ({ workload }) => {
    const pinned = workload.nodeSelector?.['kubernetes.io/arch'];
    return { containers: workload.containers, ...(pinned ? { arches: [pinned] } : {}) };
  },
  workflowType: WORKLOAD_WORKFLOW,
  workflowInput: (t): WorkloadInput => ({
    ...baseInput(t),
    action: 'deploy',
    namespace: workloadNamespace(t.vdc, t.payload.workload.space, t.payload.workload.pool),
    spec: t.payload.workload,
  }),
};
