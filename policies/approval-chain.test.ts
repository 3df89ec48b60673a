import { describe, expect, it } from 'vitest';
import type { Role } from '../common/roles.ts';
import { approvalStep, DEFAULT_LEVEL_DEADLINE_MS, DEFAULT_REMIND_BEFORE_MS, escalationAbove } from './approval-chain.ts';
import { decideQuotaChange } from './quota-change.ts';

describe('escalation ladder', () => {
  it.each([
    ['vdc-admin', ['domain-admin', 'ops-admin']],
    ['domain-admin', ['ops-admin']],
    ['ops-admin', []],
    ['finance', []],
  ] as [Role, Role[]][])('%s escalates to %j', (role, expected) => {
    expect(escalationAbove(role)).toEqual(expected);
  });
});

describe('approvalStep', () => {
  it.each([
    {
      name: 'single role, default SLA',
      roles: ['vdc-admin'] as [Role],
      opts: {},
      expected: {
        role: 'vdc-admin',
        label: 'VDC admin',
        sla: { deadlineMs: DEFAULT_LEVEL_DEADLINE_MS, remindBeforeMs: DEFAULT_REMIND_BEFORE_MS, escalateTo: ['domain-admin', 'ops-admin'] },
      },
    },
    {
      name: 'all-of two roles',
      roles: ['ops-admin', 'domain-admin'] as [Role, Role],
      opts: { mode: 'all-of' as const },
      expected: {
        role: 'ops-admin',
        roles: ['ops-admin', 'domain-admin'],
        mode: 'all-of',
        label: 'Operations admin and Domain admin',
        sla: { escalateTo: [] },
      },
    },
    {
      name: 'any-of two roles',
      roles: ['vdc-admin', 'domain-admin'] as [Role, Role],
      opts: {},
      expected: { roles: ['vdc-admin', 'domain-admin'], mode: 'any-of', label: 'VDC admin or Domain admin' },
    },
    {
      name: 'no escalation, own deadline',
      roles: ['vdc-admin'] as [Role],
      opts: { escalate: false, deadlineMs: 1000, remindBeforeMs: 0 },
      expected: { sla: { deadlineMs: 1000, remindBeforeMs: 0, escalateTo: [] } },
    },
  ])('$name', ({ roles, opts, expected }) => {
    const s = approvalStep(0, roles, opts);
    expect(s).toMatchObject(expected);
    if (roles.length === 1) expect(s.roles).toBeUndefined();
  });
});

describe('quota policy chains (2026-11-25.1)', () => {
  const current = { cpu: 4, memoryGi: 8, pods: 20 };
  it.each([
    { name: 'small increase', requested: { cpu: 5 }, steps: [{ role: 'vdc-admin', mode: undefined, escalateTo: ['domain-admin', 'ops-admin'] }] },
    {
      name: 'large increase',
      requested: { cpu: 40 },
      steps: [
        { role: 'vdc-admin', mode: undefined, escalateTo: ['domain-admin', 'ops-admin'] },
        { role: 'ops-admin', mode: undefined, escalateTo: [] },
      ],
    },
    {
      name: 'very large increase (over half the ceiling)',
      requested: { cpu: 300 },
      steps: [
        { role: 'vdc-admin', mode: undefined, escalateTo: ['domain-admin', 'ops-admin'] },
        { role: 'ops-admin', mode: 'all-of', escalateTo: [] },
      ],
    },
    {
      name: 'exactly half the ceiling is not very large',
      requested: { pods: 2500 },
      steps: [
        { role: 'vdc-admin', mode: undefined, escalateTo: ['domain-admin', 'ops-admin'] },
        { role: 'ops-admin', mode: undefined, escalateTo: [] },
      ],
    },
  ])('$name', ({ requested, steps }) => {
    const d = decideQuotaChange({ current, requested });
    if (d.outcome === 'deny') throw new Error('unexpected deny');
    expect(d.chain.map((s) => ({ role: s.role, mode: s.mode, escalateTo: s.sla?.escalateTo }))).toEqual(steps);
  });

  it('the very large step needs both roles', () => {
    const d = decideQuotaChange({ current, requested: { memoryGi: 1500 } });
    if (d.outcome === 'deny') throw new Error('unexpected deny');
    expect(d.chain[1]).toMatchObject({ roles: ['ops-admin', 'domain-admin'], mode: 'all-of' });
  });
});
