import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  cancelSignal,
  decideUpdate,
  DECISION_ERRORS,
  stateQuery,
  type DecideArgs,
  type QuotaChangeInput,
  type QuotaChangeResult,
  type QuotaChangeState,
} from '../common/quota-change-workflow.ts';
import type { TicketStatus } from '../common/tickets.ts';

const { preflightQuota, projectTicket } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const { applyQuota, recordLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '5s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['KubernetesRefused'] },
});

/**
 * One quota-change ticket: preflight → approval chain (Updates, validated here) → apply → ledger.
 * Workflow id = ticket id. Each state change is projected onto the ticket document by an activity.
 */
export async function quotaChangeWorkflow(input: QuotaChangeInput): Promise<QuotaChangeResult> {
  const { policy } = input;
  const state: QuotaChangeState = {
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
  const finish = async (status: TicketStatus, error?: string): Promise<QuotaChangeResult> => {
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

  state.preview = await preflightQuota({ namespace: input.vdc.namespace, requested: input.requested });
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

  state.status = 'executing';
  await project();
  let appliedAt: string;
  try {
    const applied = await applyQuota({ vdc: input.vdc, current: state.preview.current, requested: input.requested });
    appliedAt = applied.appliedAt;
  } catch (err) {
    return finish('failed', err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err));
  }
  await recordLedger({ ticketId: input.ticketId });
  const result = await finish('completed');
  return { ...result, appliedAt };
}

/** Update validator: rejecting here leaves no trace in history, so a refused decision changes nothing. */
function validateDecision(input: QuotaChangeInput, state: QuotaChangeState, args: DecideArgs): void {
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
