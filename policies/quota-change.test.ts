import { describe, expect, it } from 'vitest';
import { decideQuotaChange, QUOTA_POLICY_VERSION } from './quota-change.ts';

const current = { cpu: 4, memoryGi: 8, pods: 20 };

describe('decideQuotaChange', () => {
  it.each([
    { name: 'small cpu increase', requested: { cpu: 6 }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: 'exactly 1.5x is not large', requested: { memoryGi: 12 }, outcome: 'approval', roles: ['vdc-admin'] },
    { name: 'above 1.5x is large', requested: { cpu: 6.001 }, outcome: 'approval', roles: ['vdc-admin', 'ops-admin'] },
    { name: 'large pods increase', requested: { cpu: 5, pods: 100 }, outcome: 'approval', roles: ['vdc-admin', 'ops-admin'] },
    { name: 'pure decrease', requested: { cpu: 2, pods: 10 }, outcome: 'auto-approve', roles: [] },
    { name: 'no change', requested: { cpu: 4 }, outcome: 'auto-approve', roles: [] },
  ])('$name → $outcome $roles', ({ requested, outcome, roles }) => {
    const d = decideQuotaChange({ current, requested });
    expect(d.outcome).toBe(outcome);
    expect(d.version).toBe(QUOTA_POLICY_VERSION);
    if (d.outcome !== 'deny') expect(d.chain.map((s) => s.role)).toEqual(roles);
  });

  it.each([
    { current: {}, requested: { cpu: 16 }, roles: ['vdc-admin'] },
    { current: {}, requested: { cpu: 17 }, roles: ['vdc-admin', 'ops-admin'] },
    { current: { pods: 0 }, requested: { pods: 201 }, roles: ['vdc-admin', 'ops-admin'] },
  ])('from nothing: $requested → $roles', ({ current: cur, requested, roles }) => {
    const d = decideQuotaChange({ current: cur, requested });
    expect(d.outcome).toBe('approval');
    if (d.outcome !== 'deny') expect(d.chain.map((s) => s.role)).toEqual(roles);
  });

  it('denies above the platform ceiling and names the field', () => {
    const d = decideQuotaChange({ current, requested: { cpu: 8, memoryGi: 4096 } });
    expect(d).toMatchObject({ outcome: 'deny', field: 'quota.memoryGi' });
  });

  it('numbers chain steps from zero in order', () => {
    const d = decideQuotaChange({ current, requested: { cpu: 100 } });
    if (d.outcome === 'deny') throw new Error('unexpected deny');
    expect(d.chain.map((s) => s.step)).toEqual([0, 1]);
  });
});
