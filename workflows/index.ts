export { quotaChangeWorkflow } from './quota-change.ts';
export { quotaLeaseWorkflow } from './quota-lease.ts';
export { nodeListWorkflow, poolOverviewWorkflow, registerPoolWorkflow, setNodeSchedulableWorkflow } from './pools.ts';
export { applicationSpaceWorkflow } from './application-space.ts';
export { workloadWorkflow } from './workload.ts';
export { nodeJoinWorkflow } from './node-join.ts';
export { imagePublishWorkflow } from './image-publish.ts';
export { imageOperationWorkflow } from './image-operation.ts';
