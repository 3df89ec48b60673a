import { ApplicationFailure, condition, patched, proxyActivities, setHandler } from '@temporalio/workflow';
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
import type { Actor, Role } from '../common/roles.ts';
import type { ApprovalRecord, TicketPreview, TicketStatus } from '../common/tickets.ts';
import { decidersOf, eligibleRoles, neededRoles } from '../policies/approval-steps.ts';

/**
 * Patch ids. `approval-sla`: per-step deadlines with a reminder before and escalation at the deadline
 * (histories recorded before it reject at the first timeout, as they did).
 */
export const APPROVAL_PATCHES = { sla: 'approval-sla' } as const;

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
  /**
   * Voids the approvals given so far (recorded in `approvalResets` with the reason and both hashes) and
   * runs the chain again on the new preview; same result as {@link awaitApproval}.
   */
  reapprove(preview: P, reason: string): Promise<TicketWorkflowResult | undefined>;
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
        ...(state.approvalResets ? { approvalResets: state.approvalResets } : {}),
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
  let changes = 0;
  setHandler(
    decideUpdate,
    (args: DecideArgs) => {
      const step = state.currentStep as number;
      const record = state.approvals[step];
      const acting = actingAs(input, state, args);
      const at = new Date().toISOString();
      const onBehalfOf = args.onBehalfOf && acting?.onBehalfOf ? { onBehalfOf: acting.onBehalfOf } : {};
      const comment = args.comment ? { comment: args.comment } : {};
      let stepDone = true;
      if (record && acting && args.decision === 'approve' && stepMode(input, step) === 'all-of') {
        record.votes = [...(record.votes ?? []), { role: acting.role, actor: args.actor, at, ...onBehalfOf, ...comment }];
        stepDone = eligibleRoles(policy.chain, state.approvals, step).every((r) => record.votes?.some((v) => v.role === r));
      }
      if (record && stepDone) Object.assign(record, { decision: args.decision, actor: args.actor, at, ...comment, ...onBehalfOf });
      if (args.decision === 'reject') state.status = 'rejected';
      else if (!stepDone) state.currentStep = step;
      else if (step + 1 < state.approvals.length) state.currentStep = step + 1;
      else state.status = 'approved';
      if (state.status !== 'pending_approval') state.currentStep = null;
      changes++;
      return state;
    },
    { validator: (args: DecideArgs) => validateDecision(input, state, args) },
  );

  async function awaitApproval(preview: P): Promise<TicketWorkflowResult | undefined> {
    state.preview = preview;
    state.status = policy.outcome === 'auto-approve' ? 'approved' : 'pending_approval';
    await project();
    if (state.status === 'pending_approval' && patched(APPROVAL_PATCHES.sla)) {
      const closed = await runChainWithSla();
      if (closed) return closed;
    }
    while (state.status === 'pending_approval') {
      const step = state.currentStep;
      const moved = await condition(
        () => state.currentStep !== step || state.status !== 'pending_approval' || cancelRequested !== undefined,
        input.approvalTimeoutMs,
      );
      if (cancelRequested !== undefined && state.status === 'pending_approval') return finish('cancelled', cancelRequested);
      if (!moved) return finish('rejected', `approval step ${(step ?? 0) + 1} not decided within ${Math.round(input.approvalTimeoutMs / 60_000)} min`);
      await project();
    }
    if ((state.status as TicketStatus) === 'rejected') return finish('rejected');
    if (cancelRequested !== undefined) return finish('cancelled', cancelRequested);
    return undefined;
  }

  /**
   * The chain with SLAs: each level of a step waits until its deadline (a reminder recorded before it),
   * then escalates to the step's next role; the last level timing out rejects the ticket. Returns the
   * closed result for a cancel or expiry, otherwise undefined with the status decided by the update.
   */
  async function runChainWithSla(): Promise<TicketWorkflowResult | undefined> {
    while (state.status === 'pending_approval' && state.currentStep !== null) {
      const stepIdx = state.currentStep;
      const step = policy.chain[stepIdx];
      const record = state.approvals[stepIdx] as ApprovalRecord;
      const deadlineMs = step?.sla?.deadlineMs ?? input.approvalTimeoutMs;
      const remindBefore = step?.sla && step.sla.remindBeforeMs > 0 && step.sla.remindBeforeMs < deadlineMs ? step.sla.remindBeforeMs : 0;
      const level = record.escalations?.length ?? 0;
      const next = step?.sla?.escalateTo[level];
      const roles = eligibleRoles(policy.chain, state.approvals, stepIdx);
      const label = `approval step ${stepIdx + 1} (${roles.join(', ')})`;
      const deadlineAt = Date.now() + deadlineMs;
      record.deadline = new Date(deadlineAt).toISOString();
      // `seen` is taken before every await, so a decision arriving while a projection runs is not missed.
      let seen = changes;
      await project();
      let reminded = remindBefore === 0;
      for (;;) {
        const wakeAt = reminded ? deadlineAt : deadlineAt - remindBefore;
        const summary = reminded
          ? next
            ? `Deadline passed: ${label} escalated to ${next}`
            : `Deadline passed: ${label} expired, ticket rejected`
          : `Reminder: ${label} is due at ${record.deadline}`;
        const moved = (): boolean => state.status !== 'pending_approval' || state.currentStep !== stepIdx;
        const woken = await condition(() => changes !== seen || moved() || cancelRequested !== undefined, Math.max(wakeAt - Date.now(), 1), { summary });
        if (cancelRequested !== undefined && state.status === 'pending_approval') return finish('cancelled', cancelRequested);
        if (woken) {
          if (moved()) break;
          seen = changes;
          await project();
          continue;
        }
        if (!reminded) {
          reminded = true;
          record.reminders = [...(record.reminders ?? []), new Date().toISOString()];
          seen = changes;
          await project();
          continue;
        }
        if (next === undefined) return finish('rejected', `approval step ${stepIdx + 1} not decided within ${Math.round(deadlineMs / 60_000)} min`);
        record.escalations = [...(record.escalations ?? []), { at: new Date().toISOString(), from: roles, to: [next] }];
        record.roles = [next];
        delete record.votes;
        break;
      }
      if (state.status !== 'pending_approval') delete record.deadline;
    }
    if (state.status === 'pending_approval') return undefined;
    for (const r of state.approvals) delete r.deadline;
    await project();
    return undefined;
  }

  async function reapprove(preview: P, reason: string): Promise<TicketWorkflowResult | undefined> {
    state.approvalResets = [
      ...(state.approvalResets ?? []),
      { at: new Date().toISOString(), reason, previousHash: state.preview?.hash ?? '', newHash: preview.hash, approvals: state.approvals },
    ];
    state.approvals = policy.chain.map((s) => ({ step: s.step, role: s.role }));
    state.currentStep = policy.chain.length > 0 ? 0 : null;
    return awaitApproval(preview);
  }

  return { state, project, finish, awaitApproval, reapprove };
}

const stepMode = (input: TicketWorkflowInput, i: number): 'any-of' | 'all-of' => input.policy.chain[i]?.mode ?? 'any-of';

/**
 * The role the caller (or the approver they stand in for) decides the current step as, or undefined when
 * neither holds a role the step still needs. On an all-of step, roles already approved are no longer needed.
 */
function actingAs(input: TicketWorkflowInput, state: TicketWorkflowState, args: DecideArgs): { role: Role; onBehalfOf?: Actor } | undefined {
  const i = state.currentStep;
  if (i === null) return undefined;
  const needed = neededRoles(input.policy, state.approvals, i);
  const own = needed.find((r) => args.actorRoles.includes(r));
  if (own) return { role: own };
  const d = args.onBehalfOf;
  const delegated = d ? needed.find((r) => d.roles.includes(r)) : undefined;
  return d && delegated ? { role: delegated, onBehalfOf: d.delegator } : undefined;
}

/** The message to show for a failed activity: the cause's (the activity's own error), not the wrapper's. */
export function failureMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (!(cause instanceof Error)) return err.message;
  // A retry window that ran out (schedule-to-close timeout) carries the last attempt's failure as its cause.
  return cause.cause instanceof Error ? `${cause.message} (last error: ${cause.cause.message})` : cause.message;
}

/** Update validator: rejecting here leaves no trace in history, so a refused decision changes nothing. */
function validateDecision(input: TicketWorkflowInput, state: TicketWorkflowState, args: DecideArgs): void {
  if (state.status !== 'pending_approval' || state.currentStep === null) {
    throw ApplicationFailure.nonRetryable(`ticket is ${state.status}, not awaiting a decision`, DECISION_ERRORS.notPending);
  }
  if (args.actor.sub === input.requester.sub) {
    throw ApplicationFailure.nonRetryable('the requester cannot decide on their own ticket', DECISION_ERRORS.selfApproval);
  }
  if (args.onBehalfOf?.delegator.sub === input.requester.sub) {
    throw ApplicationFailure.nonRetryable('a delegate cannot decide for the requester of the ticket', DECISION_ERRORS.selfApproval);
  }
  const acting = actingAs(input, state, args);
  if (!acting) {
    throw ApplicationFailure.nonRetryable(
      `step ${state.currentStep + 1} needs role ${eligibleRoles(input.policy.chain, state.approvals, state.currentStep).join(' or ')}`,
      DECISION_ERRORS.notEligible,
    );
  }
  const decided = decidersOf(state.approvals);
  if (decided.includes(args.actor.sub) || (acting.onBehalfOf && decided.includes(acting.onBehalfOf.sub))) {
    throw ApplicationFailure.nonRetryable('one person decides at most one step of a ticket', DECISION_ERRORS.notEligible);
  }
  if (args.previewHash !== undefined && args.previewHash !== state.preview?.hash) {
    throw ApplicationFailure.nonRetryable('the preview changed since it was shown; reload and decide again', DECISION_ERRORS.stalePreview);
  }
}
