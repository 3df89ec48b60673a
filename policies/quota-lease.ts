import { ROLES } from '../common/roles.ts';
import { leaseWindow, MAX_LEASE_HOURS, type ApprovalStep, type Quota, type QuotaLeaseRequest, type QuotaResource } from '../common/tickets.ts';
import { LARGE_ABSOLUTE, LARGE_INCREASE_FACTOR, QUOTA_CEILING } from './quota-change.ts';
import type { TicketDecision } from './types.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const QUOTA_LEASE_POLICY_VERSION = 'quota-lease/2026-11-25.1';

/** A lease of every resource within this fraction of its current value, and no longer than `AUTO_APPROVE_HOURS`, needs nobody. */
export const AUTO_APPROVE_FRACTION = 0.1;
export const AUTO_APPROVE_HOURS = 24;
/** Leases longer than this need an operations admin as well (as large increases do). */
export const LONG_LEASE_HOURS = 30 * 24;

export interface QuotaLeasePolicyInput {
  /** The VDC's quota now (the base the lease increases). */
  current: Quota;
  /** The quota requested for the lease period. */
  leased: Quota;
  lease: Pick<QuotaLeaseRequest, 'startsAt' | 'endsAt' | 'durationHours'>;
  /** Decision time (epoch ms); an input, so the policy stays pure. */
  now: number;
}

const deny = (reason: string, field: string): TicketDecision => ({ version: QUOTA_LEASE_POLICY_VERSION, outcome: 'deny', reason, field });

/**
 * Decides how a quota lease is approved. Pure.
 * - any resource above the platform ceiling → deny (naming `quota.<resource>`);
 * - no resource above its current value → deny (`quota`): a lease is a temporary increase;
 * - a window already over, or longer than 90 days from when it can start → deny (`endsAt`);
 * - every increase within 10% and at most 24 h → auto-approve with that reason;
 * - otherwise VDC admin; a large increase (as for quota changes) or a lease over 30 days adds an
 *   operations admin as second step.
 */
export function decideQuotaLease({ current, leased, lease, now }: QuotaLeasePolicyInput): TicketDecision {
  const entries = Object.entries(leased).filter((e): e is [QuotaResource, number] => e[1] !== undefined);
  for (const [resource, to] of entries) {
    if (to > QUOTA_CEILING[resource]) return deny(`${resource} ${to} exceeds the platform ceiling of ${QUOTA_CEILING[resource]} per VDC`, `quota.${resource}`);
  }
  const increases = entries.filter(([resource, to]) => to > (current[resource] ?? 0));
  if (increases.length === 0) return deny('a lease must increase at least one resource above the current quota', 'quota');
  const { startMs, endMs } = leaseWindow(lease, now);
  if (endMs <= now) return deny('the lease ends in the past', 'endsAt');
  if (endMs <= startMs) return deny('the lease ends before it starts', 'endsAt');
  const hours = (endMs - startMs) / 3_600_000;
  if (hours > MAX_LEASE_HOURS) return deny('a lease lasts at most 90 days', 'endsAt');

  const small = increases.every(([r, to]) => (current[r] ?? 0) > 0 && to <= (current[r] as number) * (1 + AUTO_APPROVE_FRACTION));
  if (small && hours <= AUTO_APPROVE_HOURS) {
    return {
      version: QUOTA_LEASE_POLICY_VERSION,
      outcome: 'auto-approve',
      reason: `increase within ${AUTO_APPROVE_FRACTION * 100}% for at most ${AUTO_APPROVE_HOURS} h`,
      chain: [],
    };
  }
  const chain: ApprovalStep[] = [{ step: 0, role: ROLES.vdcAdmin, label: 'VDC admin' }];
  const large = increases
    .filter(([r, to]) => {
      const from = current[r];
      return from === undefined || from === 0 ? to > LARGE_ABSOLUTE[r] : to > from * LARGE_INCREASE_FACTOR;
    })
    .map(([r]) => r);
  const reasons = [large.length > 0 ? `large increase of ${large.join(', ')}` : `increase of ${increases.map(([r]) => r).join(', ')}`];
  if (hours > LONG_LEASE_HOURS) reasons.push(`lease of ${Math.round(hours / 24)} days`);
  if (large.length > 0 || hours > LONG_LEASE_HOURS) chain.push({ step: 1, role: ROLES.opsAdmin, label: 'Operations admin' });
  return { version: QUOTA_LEASE_POLICY_VERSION, outcome: 'approval', reason: `temporary ${reasons.join('; ')}`, chain };
}
