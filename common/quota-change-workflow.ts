import type { Quota, QuotaPreview } from './tickets.ts';
import type { TicketWorkflowInput, TicketWorkflowResult, TicketWorkflowState } from './ticket-workflow.ts';

export { cancelSignal, decideUpdate, DECISION_ERRORS, stateQuery, type DecideArgs, type VdcRef } from './ticket-workflow.ts';

export interface QuotaChangeInput extends TicketWorkflowInput {
  requested: Quota;
}

export type QuotaChangeState = TicketWorkflowState<QuotaPreview>;

export interface QuotaChangeResult extends TicketWorkflowResult {
  appliedAt?: string;
}
