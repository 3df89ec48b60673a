import type { TicketWorkflowInput, TicketWorkflowResult } from './ticket-workflow.ts';

/** Workflow type name of image publish tickets, as the API starts it. */
export const IMAGE_PUBLISH_WORKFLOW = 'imagePublishWorkflow';

export interface ImagePublishInput extends TicketWorkflowInput {
  source: { repository: string; tag: string };
  target: { repository: string; tag: string; visibility: 'private' | 'public' };
  scanOverride?: { reason: string };
}

export interface ImagePublishResult extends TicketWorkflowResult {
  digest?: string;
  steps?: string[];
}
