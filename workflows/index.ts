export { quotaChangeWorkflow } from './quota-change.ts';
