import { defaultPayloadConverter } from '@temporalio/common';
import proto, { type temporal } from '@temporalio/proto';
import type { DecideArgs, QuotaChangeInput, QuotaChangeResult } from '../../common/quota-change-workflow.ts';
import type { TimelineEntry } from '../../common/tickets.ts';

const ET = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** Human labels of activities; activities not listed (projections) are internal and not shown. */
const ACTIVITY_LABELS: Record<string, string> = {
  preflightQuota: 'Preflight: read ResourceQuota and usage',
  applyQuota: 'Applied ResourceQuota (server-side apply)',
  recordLedger: 'Ledger line written',
  readVdcQuota: 'Read the VDC quota in force',
  applyLeaseQuota: 'Lease started: increased ResourceQuota applied',
  revertLeaseQuota: 'Lease ended: ResourceQuota reverted',
  preflightSpaceCreate: 'Preflight: namespace name is free',
  preflightSpaceDelete: 'Preflight: namespace holds no workloads',
  applySpaceNamespace: 'Namespace applied',
  applySpaceQuota: 'ResourceQuota applied',
  applySpaceLimits: 'LimitRange applied',
  applySpaceRbac: 'RoleBindings applied',
  recordSpace: 'Application space recorded on the VDC',
  markSpaceDeleting: 'Application space marked deleting',
  deleteSpaceNamespace: 'Namespace deleted',
  unrecordSpace: 'Application space removed from the VDC',
  loadWorkloadRevision: 'Loaded the revision to roll back to',
  preflightWorkload: 'Preflight: server-side dry-run of every object, quota and storage rules',
  applyWorkload: 'Applied the workload objects (server-side apply)',
  waitWorkloadRollout: 'Rollout finished',
  pruneWorkload: 'Deleted the objects the new revision dropped',
  recordWorkload: 'Workload revision recorded',
  undoWorkload: 'Compensation: workload objects restored or deleted',
  unrecordWorkload: 'Compensation: workload revision record removed',
  preflightWorkloadOperation: 'Preflight: what the workload operation changes',
  executeWorkloadOperation: 'Workload operation applied',
};

const first = <T>(p: Payloads): T | undefined => {
  const payload = p?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
};

const timeOf = (ev: HistoryEvent): string => {
  const t = ev.eventTime;
  const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
  return new Date(ms).toISOString();
};

/** Renders a ticket workflow's history as the readable timeline shown on the ticket page. */
export function renderTimeline(events: readonly HistoryEvent[]): TimelineEntry[] {
  const scheduled = new Map<number, string>();
  /** Timer id → the summary the workflow gave it (approval reminders and deadlines name what they do). */
  const timers = new Map<string, string>();
  const attempts = new Map<number, number>();
  const out: TimelineEntry[] = [];
  for (const ev of events) {
    const eventId = Number(ev.eventId ?? 0);
    const base = { eventId, time: timeOf(ev) };
    switch (ev.eventType) {
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const input = first<QuotaChangeInput>(ev.workflowExecutionStartedEventAttributes?.input);
        out.push({
          ...base,
          kind: 'submitted',
          title: 'Ticket submitted',
          actor: input?.requester.name,
          detail: input ? `policy ${input.policy.version}: ${input.policy.reason}` : undefined,
        });
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(eventId, ev.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = ev.activityTaskStartedEventAttributes;
        attempts.set(Number(a?.scheduledEventId ?? 0), a?.attempt ?? 1);
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const sid = Number(ev.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0);
        const label = ACTIVITY_LABELS[scheduled.get(sid) ?? ''];
        const n = attempts.get(sid) ?? 1;
        if (label) out.push({ ...base, kind: n > 1 ? 'retry' : 'activity', title: label, detail: n > 1 ? `succeeded on attempt ${n}` : undefined });
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case ET.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const a = ev.activityTaskFailedEventAttributes ?? ev.activityTaskTimedOutEventAttributes;
        const name = scheduled.get(Number(a?.scheduledEventId ?? 0)) ?? '';
        out.push({ ...base, kind: 'failed', title: `${ACTIVITY_LABELS[name] ?? name} failed`, detail: a?.failure?.message ?? undefined });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const args = first<DecideArgs>(ev.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args);
        const verb = args?.decision === 'approve' ? 'Approved' : 'Rejected';
        if (args)
          out.push({
            ...base,
            kind: 'decision',
            title: args.onBehalfOf ? `${verb} on behalf of ${args.onBehalfOf.delegator.name}` : verb,
            actor: args.actor.name,
            detail: args.comment,
          });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const a = ev.workflowExecutionSignaledEventAttributes;
        const arg = first<{ actor?: { name: string }; reason?: string }>(a?.input);
        out.push({
          ...base,
          kind: 'signal',
          title: a?.signalName === 'cancel' ? 'Cancel requested' : `Signal ${a?.signalName}`,
          actor: arg?.actor?.name,
          detail: arg?.reason,
        });
        break;
      }
      case ET.EVENT_TYPE_TIMER_STARTED: {
        const summary = first<string>(ev.userMetadata?.summary ? { payloads: [ev.userMetadata.summary] } : undefined);
        if (summary) timers.set(ev.timerStartedEventAttributes?.timerId ?? '', summary);
        break;
      }
      case ET.EVENT_TYPE_TIMER_FIRED:
        out.push({ ...base, kind: 'timer', title: timers.get(ev.timerFiredEventAttributes?.timerId ?? '') ?? 'Approval deadline passed' });
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: {
        const r = first<QuotaChangeResult>(ev.workflowExecutionCompletedEventAttributes?.result);
        out.push({ ...base, kind: r?.status === 'completed' ? 'completed' : 'failed', title: `Ticket ${r?.status ?? 'closed'}`, detail: r?.error });
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        out.push({
          ...base,
          kind: 'failed',
          title: 'Workflow ended abnormally',
          detail: ev.workflowExecutionFailedEventAttributes?.failure?.message ?? undefined,
        });
        break;
      default:
        break;
    }
  }
  return out.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as TimelineEntry);
}
