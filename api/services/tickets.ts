import { vdcPools } from '../../common/tenancy.ts';
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor, Role } from '../../common/roles.ts';
import { cancelSignal, decideUpdate, DECISION_ERRORS, stateQuery, type DelegatedAuthority, type TicketWorkflowState } from '../../common/ticket-workflow.ts';
import {
  FINAL_STATUSES,
  type DecisionBody,
  type Quota,
  type SubmitTicket,
  type TicketStatus,
  type TicketView,
  type TimelineEntry,
  type Ticket,
} from '../../common/tickets.ts';
import type { Store } from '../../store/index.ts';
import type { PriceBookStore } from '../../store/pricebook.ts';
import { projectedMonthlyCost } from '../../common/budget.ts';
import { toTicketView } from '../../store/tickets.ts';
import { allows, approverRoles, vdcsWith } from '../authz.ts';
import { ConflictError, DependencyUnavailableError, ForbiddenError, InputError, NotFoundError, PolicyDeniedError } from '../errors.ts';
import { temporalUnreachable } from '../dependencies.ts';
import {
  approvedButNotStarted,
  decideTicket,
  loadTicketContext,
  workflowStartOf,
  type TicketContextReaders,
  type TicketVdcContext,
} from './ticket-types/index.ts';
import { decidersOf, neededRoles } from '../../policies/approval-steps.ts';
import { renderTimeline } from './timeline.ts';
import type { DelegationService } from './delegations.ts';

import type { Caller } from './caller.ts';

export interface TicketServiceDeps {
  store: Store;
  temporal: Client;
  taskQueue: string;
  approvalTimeoutMs: number;
  /** Fault-injection hook between storing a ticket and starting its workflow (tests only). */
  afterInsert?: () => void;
  /** Resolves whether a decider acts as the delegate of an eligible approver; without it nobody decides as a delegate. */
  delegations?: Pick<DelegationService, 'actingFor'> & Partial<Pick<DelegationService, 'delegatorsOf'>>;
  /** The price book the budget rule prices quota requests with; default: the store's. */
  priceBook?: Pick<PriceBookStore, 'list'>;
  /** Image rules of a request's container images at submit (`api/services/image-gate.ts`); refusals are 422 naming the image field. */
  imageGate?: (vdcId: string, body: SubmitTicket) => Promise<{ field: string; message: string }[]>;
}

/** A ticket as one caller sees it: whether they may decide it, and for whom when that is as a delegate. */
export type TicketWithCaps = TicketView & { canDecide: boolean; onBehalfOf?: Actor };

/** Time-sortable ticket id: `tkt-` + base36 milliseconds + 6 random hex chars. */
export const newTicketId = (): string => `tkt-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

const DECISION_STATUS: Record<string, (msg: string) => Error> = {
  [DECISION_ERRORS.notEligible]: (m) => new ForbiddenError(m),
  [DECISION_ERRORS.selfApproval]: (m) => new ForbiddenError(m),
  [DECISION_ERRORS.notPending]: (m) => new ConflictError(m),
  [DECISION_ERRORS.stalePreview]: (m) => new ConflictError(m),
};

/** Ticket use cases behind the routes: submit, read, decide, cancel, timeline, and starting lost workflows. */
export function ticketService(deps: TicketServiceDeps) {
  const { store, temporal } = deps;
  const priceBook = deps.priceBook ?? store.priceBooks;

  /** Starts the ticket's workflow (type and input from the ticket-type registry); harmless when it already runs (USE_EXISTING) or has finished. */
  async function ensureWorkflow(t: Ticket): Promise<void> {
    const { workflowType, input } = workflowStartOf(t);
    try {
      await temporal.workflow.start(workflowType, {
        taskQueue: deps.taskQueue,
        workflowId: t._id,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await store.tickets.markWorkflowStarted(t._id);
  }

  /** Loads a ticket; the route has already checked the caller's permission on its VDC. */
  async function loadTicket(id: string): Promise<Ticket> {
    const ticket = await store.tickets.get(id);
    if (!ticket) throw new NotFoundError(`ticket ${id} not found`);
    return ticket;
  }

  const rolesOn = (caller: Caller, t: Ticket) => approverRoles(caller.grants, { vdcId: t.vdc.id, domainId: t.vdc.domainId });

  function canDecide(caller: Caller, t: Ticket): boolean {
    if (t.status !== 'pending_approval' || t.currentStep === null || t.requester.sub === caller.sub) return false;
    const roles = rolesOn(caller, t);
    return neededRoles(t.policy, t.approvals, t.currentStep).some((r) => roles.includes(r)) && !decidersOf(t.approvals).includes(caller.sub);
  }

  /**
   * When the caller holds none of the roles the current step needs, the approver they stand in for through
   * an active delegation (read from the workflow's own state, so a lagging projection cannot mislead).
   */
  async function delegatedAuthority(caller: Caller, t: Ticket, roles: readonly Role[]): Promise<DelegatedAuthority | undefined> {
    if (!deps.delegations) return undefined;
    let state: TicketWorkflowState;
    try {
      state = await temporal.workflow.getHandle(t._id).query(stateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    const needed = neededRoles(t.policy, state.approvals, state.currentStep);
    if (needed.length === 0 || needed.some((r) => roles.includes(r))) return undefined;
    return deps.delegations.actingFor(caller.sub, { vdcId: t.vdc.id, domainId: t.vdc.domainId }, needed, [
      t.requester.sub,
      caller.sub,
      ...decidersOf(state.approvals),
    ]);
  }

  /**
   * Whether the ticket is approved yet still in its type's cancel window (`until-started`: a lease waiting
   * for its start). Asked of the workflow itself: the projection may lag behind the start.
   */
  async function approvedCancellable(t: Ticket): Promise<boolean> {
    try {
      return await approvedButNotStarted(t, () => temporal.workflow.getHandle(t._id));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** The reads a ticket type's context loader may make, scoped to the ticket's VDC. */
  const contextReaders = (vdc: { _id: string; quota?: Quota; pool: string }): TicketContextReaders => ({
    workloads: () => store.workloads.list(vdc._id),
    volumes: () => store.volumes.list(vdc._id),
    projectedCost: async (requested) =>
      projectedMonthlyCost({ current: vdc.quota ?? {}, requested, pool: vdc.pool, versions: await priceBook.list(), at: new Date() }),
  });

  const withCaps = (caller: Caller, t: Ticket): TicketWithCaps => ({ ...toTicketView(t), canDecide: canDecide(caller, t) });

  /**
   * Pending tickets the caller may decide only as a delegate, each with the approver they stand in for:
   * the approver (per their current grants) could decide the current step, and neither the approver nor
   * the caller requested the ticket or decided a step of it. From the projection; the workflow's
   * validator checks again at decision time.
   */
  async function delegatedTickets(caller: Caller, only?: Ticket): Promise<TicketWithCaps[]> {
    const delegators = (await deps.delegations?.delegatorsOf?.(caller.sub)) ?? [];
    if (delegators.length === 0) return [];
    const allVdcs = only
      ? [{ id: only.vdc.id, domainId: only.vdc.domainId }]
      : (await store.vdcs.list('all')).map((v) => ({ id: v._id, domainId: v.domainId }));
    const out = new Map<string, TicketWithCaps>();
    for (const { delegator, grants } of delegators) {
      const vdcIds = vdcsWith(grants, 'ticket:decide', allVdcs);
      if (vdcIds !== 'all' && vdcIds.length === 0) continue;
      const pending = only ? (only.status === 'pending_approval' ? [only] : []) : await store.tickets.list({ vdcIds, status: 'pending_approval' });
      for (const t of pending) {
        if (out.has(t._id) || t.currentStep === null || canDecide(caller, t)) continue;
        if ([caller.sub, delegator.sub].includes(t.requester.sub)) continue;
        const decided = decidersOf(t.approvals);
        if (decided.includes(caller.sub) || decided.includes(delegator.sub)) continue;
        const roles = approverRoles(grants, { vdcId: t.vdc.id, domainId: t.vdc.domainId });
        if (!neededRoles(t.policy, t.approvals, t.currentStep).some((r) => roles.includes(r))) continue;
        out.set(t._id, { ...toTicketView(t), canDecide: true, onBehalfOf: delegator });
      }
    }
    return [...out.values()];
  }

  return {
    async submit(caller: Caller, body: SubmitTicket, idempotencyKey: string | undefined): Promise<{ ticket: TicketWithCaps; created: boolean }> {
      const vdc = await store.vdcs.get(body.vdcId);
      const target = vdc ? ({ kind: 'vdc', vdcId: vdc._id, domainId: vdc.domainId } as const) : undefined;
      if (!vdc || !target || !allows(caller.grants, 'vdc:read', target))
        throw new InputError(`no VDC ${body.vdcId}`, [{ field: 'vdcId', message: 'unknown VDC' }]);
      if (!allows(caller.grants, 'ticket:create', target)) throw new ForbiddenError(`you may not submit requests for VDC ${vdc._id}`);
      // A replay answers with the earlier ticket before the policy runs again: the state the first submit
      // changed (a space made, a workload deleted) would otherwise refuse the retry.
      const replayed = idempotencyKey ? await store.tickets.byIdempotencyKey(caller.sub, idempotencyKey) : null;
      if (replayed) {
        if (!replayed.workflowStarted) await ensureWorkflow(replayed);
        return { ticket: withCaps(caller, replayed), created: false };
      }
      const vdcContext: TicketVdcContext = {
        id: vdc._id,
        domainId: vdc.domainId,
        quota: vdc.quota ?? {},
        spaces: vdc.spaces ?? [],
        namespace: vdc.namespace,
        ...(vdc.pool ? { pool: vdc.pool, pools: vdcPools(vdc).map((p) => p.pool) } : {}),
        ...(vdc.monthlyBudget ? { monthlyBudget: vdc.monthlyBudget } : {}),
      };
      // What else the type's policy needs (workloads and volumes, projected cost…), loaded by its definition.
      const { projectedCost, ...extra } = await loadTicketContext(contextReaders(vdc), body, vdcContext);
      const decision = decideTicket({
        payload: body,
        requester: { sub: caller.sub, name: caller.name },
        requesterRoles: approverRoles(caller.grants, { vdcId: vdc._id, domainId: vdc.domainId }),
        vdc: { ...vdcContext, ...extra },
        ...(projectedCost ? { projectedCost } : {}),
      });
      if (decision.outcome === 'deny') throw new PolicyDeniedError(decision.reason, [{ field: decision.field, message: decision.reason }]);
      const imageProblems = (await deps.imageGate?.(vdc._id, body)) ?? [];
      if (imageProblems.length > 0) throw new PolicyDeniedError(imageProblems.map((p) => p.message).join('; '), imageProblems);
      const { ticket, created } = await store.tickets.insertOrGet({
        _id: newTicketId(),
        type: body.type,
        status: 'submitted',
        requester: { sub: caller.sub, name: caller.name },
        vdc: { id: vdc._id, name: vdc.name, domainId: vdc.domainId, namespace: vdc.namespace, pool: vdc.pool },
        payload: body,
        policy: decision,
        approvals: decision.chain.map((s) => ({ step: s.step, role: s.role })),
        currentStep: null,
        approvalTimeoutMs: deps.approvalTimeoutMs,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
      if (created) deps.afterInsert?.();
      if (!ticket.workflowStarted) {
        try {
          await ensureWorkflow(ticket);
        } catch (err) {
          // Temporal refused the connection: the workflow surely does not exist, so the ticket goes too and
          // the caller gets a 503 (the reconciler would otherwise start it after the caller gave up). Any
          // other failure leaves the ticket for the reconciler (the start may have reached the server).
          if (created && temporalUnreachable(err)) {
            await store.tickets.discardUnstarted(ticket._id);
            throw new DependencyUnavailableError('temporal');
          }
          throw err;
        }
      }
      return { ticket: withCaps(caller, ticket), created };
    },

    async get(caller: Caller, id: string): Promise<TicketWithCaps> {
      return withCaps(caller, await loadTicket(id));
    },

    /** The scope of a ticket (its VDC), for the route's permission check; 404 when there is no such ticket. */
    async scopeOf(id: string): Promise<{ vdcId: string; domainId: string }> {
      const t = await loadTicket(id);
      return { vdcId: t.vdc.id, domainId: t.vdc.domainId };
    },

    async list(caller: Caller, opts: { scope: 'mine' | 'inbox' | 'all'; status?: TicketStatus }): Promise<TicketWithCaps[]> {
      if (opts.scope === 'mine') return (await store.tickets.list({ requesterSub: caller.sub, status: opts.status })).map((t) => withCaps(caller, t));
      const allVdcs = (await store.vdcs.list('all')).map((v) => ({ id: v._id, domainId: v.domainId }));
      const vdcIds = vdcsWith(caller.grants, opts.scope === 'inbox' ? 'ticket:decide' : 'ticket:read', allVdcs);
      const status = opts.scope === 'inbox' ? 'pending_approval' : opts.status;
      const items = (await store.tickets.list({ vdcIds, status })).map((t) => withCaps(caller, t));
      if (opts.scope !== 'inbox') return items;
      return [...items.filter((t) => t.canDecide), ...(await delegatedTickets(caller))].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    /**
     * A ticket the caller may decide now as a delegate (an active delegation, the approver eligible on its
     * current step). Anything else is a 404: a delegate learns nothing else about the VDC's tickets.
     */
    async getDelegated(caller: Caller, id: string): Promise<TicketWithCaps> {
      const t = await store.tickets.get(id);
      const [hit] = t ? await delegatedTickets(caller, t) : [];
      if (!hit) throw new NotFoundError();
      return hit;
    },

    /** Sends the decision as a Temporal Update; the workflow's validator has the last word. */
    async decide(caller: Caller, id: string, body: DecisionBody): Promise<TicketWithCaps> {
      const ticket = await loadTicket(id);
      const roles = rolesOn(caller, ticket);
      if (FINAL_STATUSES.includes(ticket.status)) throw new ConflictError(`ticket is ${ticket.status}, not awaiting a decision`);
      const handle = temporal.workflow.getHandle(id);
      let state: TicketWorkflowState;
      try {
        const onBehalfOf = await delegatedAuthority(caller, ticket, roles);
        state = await handle.executeUpdate(decideUpdate, {
          args: [
            {
              actor: { sub: caller.sub, name: caller.name },
              actorRoles: roles,
              decision: body.decision,
              ...(body.comment ? { comment: body.comment } : {}),
              ...(body.previewHash ? { previewHash: body.previewHash } : {}),
              ...(onBehalfOf ? { onBehalfOf } : {}),
            },
          ],
        });
      } catch (err) {
        const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type && DECISION_STATUS[cause.type]) {
          // Name the step (its label may name the policy rule that put it in the chain, e.g. a privileged container).
          const step = cause.type === DECISION_ERRORS.notEligible && ticket.currentStep !== null ? ticket.policy.chain[ticket.currentStep]?.label : undefined;
          throw DECISION_STATUS[cause.type]!(step ? `${cause.message}: ${step}` : cause.message);
        }
        // The workflow closed between reading the ticket and sending the update.
        if (err instanceof WorkflowNotFoundError) throw new ConflictError('ticket is no longer awaiting a decision');
        throw err;
      }
      const view = withCaps(caller, {
        ...ticket,
        status: state.status,
        currentStep: state.currentStep,
        approvals: state.approvals,
        ...(state.approvalResets ? { approvalResets: state.approvalResets } : {}),
      });
      return { ...view, canDecide: false };
    },

    async cancel(caller: Caller, id: string, reason: string | undefined): Promise<TicketWithCaps> {
      const ticket = await loadTicket(id);
      const isOps = allows(caller.grants, 'ticket:decide', { kind: 'platform' });
      const isVdcAdmin = rolesOn(caller, ticket).includes('vdc-admin');
      if (ticket.requester.sub !== caller.sub && !isOps && !isVdcAdmin)
        throw new ForbiddenError('only the requester, a VDC admin of the VDC or an operations admin may cancel');
      if (ticket.status !== 'submitted' && ticket.status !== 'pending_approval' && !(await approvedCancellable(ticket))) {
        throw new ConflictError(`ticket is ${ticket.status}; only a ticket awaiting approval, or an approved lease that has not started, can be cancelled`);
      }
      await temporal.workflow.getHandle(id).signal(cancelSignal, { actor: { sub: caller.sub, name: caller.name }, ...(reason ? { reason } : {}) });
      return withCaps(caller, ticket);
    },

    async timeline(id: string): Promise<TimelineEntry[]> {
      await loadTicket(id);
      const history = await temporal.workflow.getHandle(id).fetchHistory();
      return renderTimeline(history.events ?? []);
    },

    /** Starts workflows for tickets stored but never started (API crashed in between). Returns how many. */
    async reconcile(olderThanMs: number): Promise<number> {
      const stale = await store.tickets.listUnstarted(new Date(Date.now() - olderThanMs));
      for (const t of stale) await ensureWorkflow(t);
      return stale.length;
    },
  };
}
export type TicketService = ReturnType<typeof ticketService>;
