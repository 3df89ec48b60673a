import type { TicketWorkflowInput, TicketWorkflowResult } from './ticket-workflow.ts';
import type { WorkloadSpec } from './workload.ts';

/** Workflow type name of workload tickets (deploy, upgrade and rollback), as the API starts it. */
export const WORKLOAD_WORKFLOW = 'workloadWorkflow';

export interface WorkloadInput extends TicketWorkflowInput {
  action: 'deploy' | 'rollback';
  namespace: string;
  /** Deploy: the spec to apply. */
  spec?: WorkloadSpec;
  /** Rollback: the workload and the revision to return to (absent = the previous one). */
  target?: { name: string; revision?: number };
}

export interface WorkloadResult extends TicketWorkflowResult {
  revision?: number;
  steps?: string[];
}
