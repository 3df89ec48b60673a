import { describe, expect, it } from 'vitest';
import { leasePlan, leaseRevert } from '../common/quota-lease-workflow.ts';
import { leaseWindow, QuotaLeaseRequestSchema } from '../common/tickets.ts';
import { decideQuotaLease, QUOTA_LEASE_POLICY_VERSION } from './quota-lease.ts';

const current = { cpu: 4, memoryGi: 8, pods: 20 };
const now = Date.parse('2026-11-25T00:00:00Z');
const H = 3_600_000;
const at = (hours: number): string => new Date(now + hours * H).toISOString();

describe('decideQuotaLease', () => {
  it.each([
    { name: 'within 10% for 24 h', leased: { cpu: 4.4 }, lease: { durationHours: 24 }, outcome: 'auto-approve', roles: [] },
    { name: 'within 10% but 25 h', leased: { cpu: 4.4 }, lease: { durationHours: 25 }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: 'above 10% for 1 h', leased: { cpu: 4.5 }, lease: { durationHours: 1 }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: 'from nothing is never small', cur: { cpu: 4 }, leased: { pods: 1 }, lease: { durationHours: 1 }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: '3-day doubling of pods is large', leased: { pods: 40 }, lease: { durationHours: 72 }, outcome: 'approval', roles: ['vdc-admin', 'ops-admin'] },
    { name: 'exactly 1.5x for 30 days', leased: { cpu: 6 }, lease: { durationHours: 720 }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: 'over 30 days needs ops', leased: { cpu: 6 }, lease: { durationHours: 721 }, outcome: 'approval', roles: ['vdc-admin', 'ops-admin'] },
    { name: 'scheduled window', leased: { cpu: 5 }, lease: { startsAt: at(24), endsAt: at(48) }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: 'start in the past counts from now', leased: { cpu: 5 }, lease: { startsAt: at(-10), endsAt: at(2) }, outcome: 'approval', roles: ['vdc-admin'] },
  ] as { name: string; cur?: typeof current | { cpu: number }; leased: object; lease: object; outcome: string; roles: string[] }[])(
    '$name → $outcome $roles',
    ({ cur, leased, lease, outcome, roles }) => {
      const d = decideQuotaLease({ current: cur ?? current, leased, lease, now });
      expect(d.version).toBe(QUOTA_LEASE_POLICY_VERSION);
      expect(d.outcome).toBe(outcome);
      if (d.outcome !== 'deny') expect(d.chain.map((s) => s.role)).toEqual(roles);
    },
  );

  it.each([
    { name: 'above the ceiling', leased: { cpu: 513 }, lease: { durationHours: 1 }, field: 'quota.cpu', reason: /ceiling/ },
    { name: 'no increase', leased: { cpu: 4, pods: 10 }, lease: { durationHours: 1 }, field: 'quota', reason: /must increase/ },
    { name: 'ends in the past', leased: { cpu: 5 }, lease: { endsAt: at(-1) }, field: 'endsAt', reason: /past/ },
    { name: 'more than 90 days from now', leased: { cpu: 5 }, lease: { endsAt: at(90 * 24 + 1) }, field: 'endsAt', reason: /90 days/ },
  ])('denies $name naming $field', ({ leased, lease, field, reason }) => {
    const d = decideQuotaLease({ current, leased, lease, now });
    expect(d).toMatchObject({ outcome: 'deny', field, version: QUOTA_LEASE_POLICY_VERSION });
    if (d.outcome === 'deny') expect(d.reason).toMatch(reason);
  });
});

describe('QuotaLeaseRequestSchema', () => {
  const body = { type: 'quota-lease', vdcId: 'demo', quota: { cpu: 6 } };
  it.each([
    { name: 'duration', extra: { durationHours: 72 }, field: undefined },
    { name: 'window', extra: { startsAt: at(1), endsAt: at(73) }, field: undefined },
    { name: 'exactly 90 days', extra: { startsAt: at(0), endsAt: at(90 * 24) }, field: undefined },
    { name: 'neither end nor duration', extra: {}, field: 'endsAt' },
    { name: 'both end and duration', extra: { endsAt: at(5), durationHours: 5 }, field: 'endsAt' },
    { name: 'end before start', extra: { startsAt: at(5), endsAt: at(4) }, field: 'endsAt' },
    { name: 'end equals start', extra: { startsAt: at(5), endsAt: at(5) }, field: 'endsAt' },
    { name: 'over 90 days', extra: { startsAt: at(0), endsAt: at(90 * 24 + 1) }, field: 'endsAt' },
    { name: 'duration over 90 days', extra: { durationHours: 90 * 24 + 1 }, field: 'durationHours' },
    { name: 'zero duration', extra: { durationHours: 0 }, field: 'durationHours' },
    { name: 'not a date', extra: { endsAt: 'tomorrow' }, field: 'endsAt' },
  ])('$name → error on $field', ({ extra, field }) => {
    const r = QuotaLeaseRequestSchema.safeParse({ ...body, ...extra });
    if (field === undefined) expect(r.success).toBe(true);
    else expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});

describe('lease arithmetic', () => {
  it('window: duration counts from the later of startsAt and approval', () => {
    expect(leaseWindow({ durationHours: 72 }, now)).toEqual({ startMs: now, endMs: now + 72 * H });
    expect(leaseWindow({ startsAt: at(5), durationHours: 1 }, now)).toEqual({ startMs: now + 5 * H, endMs: now + 6 * H });
    expect(leaseWindow({ startsAt: at(-5), endsAt: at(1) }, now)).toEqual({ startMs: now, endMs: now + H });
  });

  it.each([
    { name: 'plain lease', base: { cpu: 4, pods: 20 }, leased: { cpu: 8 }, quota: { cpu: 8, pods: 20 }, delta: { cpu: 4 } },
    { name: 'base already above one resource', base: { cpu: 10, pods: 20 }, leased: { cpu: 8, pods: 30 }, quota: { cpu: 10, pods: 30 }, delta: { pods: 10 } },
    { name: 'fractions', base: { cpu: 0.3 }, leased: { cpu: 0.5 }, quota: { cpu: 0.5 }, delta: { cpu: 0.2 } },
  ])('plan: $name', ({ base, leased, quota, delta }) => {
    expect(leasePlan(base, leased)).toEqual({ quota, delta });
  });

  it.each([
    { name: 'unchanged meanwhile → base', current: { cpu: 8, pods: 20 }, expected: { cpu: 4, pods: 20 } },
    { name: 'raised meanwhile → keeps the raise', current: { cpu: 12, pods: 20 }, expected: { cpu: 8, pods: 20 } },
    { name: 'lowered meanwhile → never below base', current: { cpu: 5, pods: 20 }, expected: { cpu: 4, pods: 20 } },
    { name: 'other resources untouched', current: { cpu: 8, pods: 50 }, expected: { cpu: 4, pods: 50 } },
  ])('revert: $name', ({ current: cur, expected }) => {
    expect(leaseRevert(cur, { cpu: 4, pods: 20 }, { cpu: 4 })).toEqual(expected);
  });
});
