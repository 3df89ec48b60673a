import { describe, expect, it } from 'vitest';
import type { ApprovalRecord, ApprovalStep } from '../common/tickets.ts';
import { decidersOf, eligibleRoles, neededRoles } from './approval-steps.ts';

const actor = (sub: string) => ({ sub, name: sub });
const chain: ApprovalStep[] = [
  { step: 0, role: 'vdc-admin', label: 'VDC admin' },
  { step: 1, role: 'domain-admin', label: 'both', roles: ['domain-admin', 'ops-admin'], mode: 'all-of' },
];

describe('eligibleRoles / neededRoles', () => {
  it.each<[string, ApprovalRecord[], number | null, string[]]>([
    ['no current step', [], null, []],
    ['a step without roles: its role', [{ step: 0, role: 'vdc-admin' }], 0, ['vdc-admin']],
    [
      'a step listing roles: all of them',
      [
        { step: 0, role: 'vdc-admin' },
        { step: 1, role: 'domain-admin' },
      ],
      1,
      ['domain-admin', 'ops-admin'],
    ],
    [
      'all-of: roles with a vote are no longer needed',
      [
        { step: 0, role: 'vdc-admin' },
        { step: 1, role: 'domain-admin', votes: [{ role: 'domain-admin', actor: actor('d'), at: 't' }] },
      ],
      1,
      ['ops-admin'],
    ],
    ['after escalation: the escalated role', [{ step: 0, role: 'vdc-admin', roles: ['domain-admin'] }], 0, ['domain-admin']],
    ['a step beyond the chain: none', [], 5, []],
  ])('%s', (_name, approvals, current, expected) => {
    expect(neededRoles({ chain }, approvals, current)).toEqual(expected);
  });

  it('eligible roles ignore votes', () => {
    expect(
      eligibleRoles(
        chain,
        [
          { step: 0, role: 'vdc-admin' },
          { step: 1, role: 'domain-admin', votes: [{ role: 'ops-admin', actor: actor('o'), at: 't' }] },
        ],
        1,
      ),
    ).toEqual(['domain-admin', 'ops-admin']);
  });
});

describe('decidersOf', () => {
  it('lists deciders, the approvers delegates acted for, and every voter', () => {
    expect(
      decidersOf([
        { step: 0, role: 'vdc-admin', decision: 'approve', actor: actor('a'), onBehalfOf: actor('b') },
        {
          step: 1,
          role: 'domain-admin',
          votes: [
            { role: 'domain-admin', actor: actor('c'), at: 't' },
            { role: 'ops-admin', actor: actor('d'), onBehalfOf: actor('e'), at: 't' },
          ],
        },
        { step: 2, role: 'ops-admin' },
      ]),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
