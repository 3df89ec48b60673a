import { ROLES, type Role } from '../common/roles.ts';
import type { ApprovalStep, StepSla } from '../common/tickets.ts';

const HOUR_MS = 3_600_000;

/**
 * Default SLA of one approval level: a day to decide, a reminder four hours before the deadline.
 * Policies may pass their own; the workflow turns these into durable timers.
 */
export const DEFAULT_LEVEL_DEADLINE_MS = 24 * HOUR_MS;
export const DEFAULT_REMIND_BEFORE_MS = 4 * HOUR_MS;

/** Who a step escalates to at its deadline, in order: VDC admin → domain admin → operations admin. */
export const ESCALATION_LADDER: readonly Role[] = [ROLES.vdcAdmin, ROLES.domainAdmin, ROLES.opsAdmin];

/** The levels above `role` on the escalation ladder (none for the top, or a role off the ladder). */
export function escalationAbove(role: Role): Role[] {
  const i = ESCALATION_LADDER.indexOf(role);
  return i < 0 ? [] : ESCALATION_LADDER.slice(i + 1);
}

export const LABELS: Partial<Record<Role, string>> = {
  [ROLES.vdcAdmin]: 'VDC admin',
  [ROLES.domainAdmin]: 'Domain admin',
  [ROLES.opsAdmin]: 'Operations admin',
};

/**
 * One chain step. `roles` with more than one role and `mode: 'all-of'` needs one approval per role;
 * `any-of` (default) needs one approval by any of them. The SLA escalates along the ladder above the
 * step's first role unless `escalate: false`.
 */
export function approvalStep(
  step: number,
  roles: readonly [Role, ...Role[]],
  opts: { mode?: 'any-of' | 'all-of'; deadlineMs?: number; remindBeforeMs?: number; escalate?: boolean } = {},
): ApprovalStep {
  const [role] = roles;
  const sla: StepSla = {
    deadlineMs: opts.deadlineMs ?? DEFAULT_LEVEL_DEADLINE_MS,
    remindBeforeMs: opts.remindBeforeMs ?? DEFAULT_REMIND_BEFORE_MS,
    escalateTo: opts.escalate === false ? [] : escalationAbove(role),
  };
  const mode = opts.mode ?? 'any-of';
  const label = roles.map((r) => LABELS[r] ?? r).join(mode === 'all-of' ? ' and ' : ' or ');
  return { step, role, label, ...(roles.length > 1 ? { roles: [...roles], mode } : {}), sla };
}
