import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  cancelSignal,
  decideUpdate,
  DECISION_ERRORS,
  stateQuery,
  type DecideArgs,
  type TicketWorkflowInput,
  type TicketWorkflowResult,
  type TicketWorkflowState,
} from '../common/ticket-workflow.ts';
import type { TicketPreview, TicketStatus } from '../common/tickets.ts';

/** Same options as the quota workflow's preflight group, so its recorded histories replay unchanged. */
const { projectTicket } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The approval mechanics of one ticket workflow; see {@link ticketApproval}. */
export interface TicketApproval<P extends TicketPreview> {
  /** The state the `state` query returns; the workflow sets `status` to `executing` itself. */
  readonly state: TicketWorkflowState<P>;
  /** Projects the state onto the ticket document (ordered by a per-run sequence, so retries are harmless). */
  project(): Promise<void>;
  /** Sets a final status (and error), projects it, and returns the workflow result. */
  finish(status: TicketStatus, error?: string): Promise<TicketWorkflowResult>;
  /**
   * Records the preflight result, then runs the approval chain decided by policy at submit time: each
   * step waits for the `decide` update up to `approvalTimeoutMs` (a durable timer), a `cancel` signal ends
   * the ticket. Resolves to undefined when the ticket is approved (the caller executes), otherwise to the
   * result of the closed ticket (rejected, expired or cancelled).
   */
  awaitApproval(preview: P): Promise<TicketWorkflowResult | undefined>;
}

/**
 * Installs the handlers every ticket workflow shares: the `state` query, the `cancel` signal and the
 * `decide` update with its validator (eligible role for the current step, not the requester, one step
 * per person, preview hash). Call it first thing in the workflow, before any await, so no update or
 * signal can arrive unhandled.
 */
export function ticketApproval<P extends TicketPreview>(input: TicketWorkflowInput): TicketApproval<P> {
  const { policy } = input;
  const state: TicketWorkflowState<P> = {
    status: 'submitted',
    currentStep: policy.chain.length > 0 ? 0 : null,
    approvals: policy.chain.map((s) => ({ step: s.step, role: s.role })),
  };
  let seq = 0;
  const project = (): Promise<void> =>
    projectTicket({
      ticketId: input.ticketId,
      seq: ++seq,
      patch: {
        status: state.status,
        currentStep: state.currentStep,
        approvals: state.approvals,
        ...(state.preview ? { preview: state.preview } : {}),
        ...(state.error ? { error: state.error } : {}),
      },
    });
  const finish = async (status: TicketStatus, error?: string): Promise<TicketWorkflowResult> => {
    state.status = status;
    state.currentStep = null;
    if (error) state.error = error;
    await project();
    return { status, ...(error ? { error } : {}) };
  };

  setHandler(stateQuery, () => state);
  let cancelRequested: string | undefined;
  setHandler(cancelSignal, ({ actor, reason }) => {
    if (state.status === 'submitted' || state.status === 'pending_approval') cancelRequested = `cancelled by ${actor.name}${reason ? `: ${reason}` : ''}`;
  });
  setHandler(
    decideUpdate,
    (args: DecideArgs) => {
      const step = state.currentStep as number;
      const record = state.approvals[step];
      if (record) Object.assign(record, { decision: args.decision, actor: args.actor, at: new Date().toISOString(), ...(args.comment ? { comment: args.comment } : {}) });
      if (args.decision === 'reject') state.status = 'rejected';
      else if (step + 1 < state.approvals.length) state.currentStep = step + 1;
      else state.status = 'approved';
      if (state.status !== 'pending_approval') state.currentStep = null;
      return state;
    },
    { validator: (args: DecideArgs) => validateDecision(input, state, args) },
  );

  async function awaitApproval(preview: P): Promise<TicketWorkflowResult | undefined> {
    state.preview = preview;
    state.status = policy.outcome === 'auto-approve' ? 'approved' : 'pending_approval';
    await project();
    while (state.status === 'pending_approval') {
      const step = state.currentStep;
      const moved = await condition(() => state.currentStep !== step || state.status !== 'pending_approval' || cancelRequested !== undefined, input.approvalTimeoutMs);
      if (cancelRequested !== undefined && state.status === 'pending_approval') return finish('cancelled', cancelRequested);
      if (!moved) return finish('rejected', `approval step ${(step ?? 0) + 1} not decided within ${Math.round(input.approvalTimeoutMs / 60_000)} min`);
      await project();
    }
    if ((state.status as TicketStatus) === 'rejected') return finish('rejected');
    if (cancelRequested !== undefined) return finish('cancelled', cancelRequested);
    return undefined;
  }

  return { state, project, finish, awaitApproval };
}

/** The message to show for a failed activity: the cause's (the activity's own error), not the wrapper's. */
export function failureMessage(err: unknown): string {
  return err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
}

/** Update validator: rejecting here leaves no trace in history, so a refused decision changes nothing. */
function validateDecision(input: TicketWorkflowInput, state: TicketWorkflowState, args: DecideArgs): void {
  if (state.status !== 'pending_approval' || state.currentStep === null) {
    throw ApplicationFailure.nonRetryable(`ticket is ${state.status}, not awaiting a decision`, DECISION_ERRORS.notPending);
  }
  if (args.actor.sub === input.requester.sub) {
    throw ApplicationFailure.nonRetryable('the requester cannot decide on their own ticket', DECISION_ERRORS.selfApproval);
  }
  const step = input.policy.chain[state.currentStep];
  if (!step || !args.actorRoles.includes(step.role)) {
    throw ApplicationFailure.nonRetryable(`step ${state.currentStep + 1} needs role ${step?.role}`, DECISION_ERRORS.notEligible);
  }
  if (state.approvals.some((a) => a.actor?.sub === args.actor.sub)) {
    throw ApplicationFailure.nonRetryable('one person decides at most one step of a ticket', DECISION_ERRORS.notEligible);
  }
  if (args.previewHash !== undefined && args.previewHash !== state.preview?.hash) {
    throw ApplicationFailure.nonRetryable('the preview changed since it was shown; reload and decide again', DECISION_ERRORS.stalePreview);
  }
}
