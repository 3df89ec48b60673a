export { quotaChangeWorkflow } from './quota-change.ts';
export { nodeListWorkflow, poolOverviewWorkflow, registerPoolWorkflow, setNodeSchedulableWorkflow } from './pools.ts';
export { applicationSpaceWorkflow } from './application-space.ts';
