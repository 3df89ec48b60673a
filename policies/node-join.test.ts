import { describe, expect, it } from 'vitest';
import type { Role } from '../common/roles.ts';
import { decideNodeJoin, NODE_JOIN_POLICY_VERSION, type NodeJoinPolicyInput } from './node-join.ts';

const base: NodeJoinPolicyInput = { pool: 'local', nodeName: 'edge-1', taints: [], tokenTtlMinutes: 30, vdcPools: ['local'], requesterRoles: ['vdc-admin'] };
const ops = { outcome: 'approval', chain: [{ step: 0, role: 'ops-admin' }] };

describe('node-join policy', () => {
  it.each([
    ['VDC admin: one ops-admin step', base, { ...ops, version: NODE_JOIN_POLICY_VERSION }],
    ['VDC user: same chain', { ...base, requesterRoles: ['vdc-user'] as Role[] }, ops],
    ['ops admin still needs another ops admin', { ...base, requesterRoles: ['ops-admin'] as Role[] }, ops],
    ['VDC pool unknown: allowed', { ...base, vdcPools: undefined }, ops],
    ['other pool than the VDC: denied', { ...base, pool: 'far' }, { outcome: 'deny', field: 'pool' }],
    ['any pool of a VDC on several: allowed', { ...base, pool: 'edge-1', vdcPools: ['local', 'edge-1'] }, ops],
    [
      'none of the VDC pools: denied naming them',
      { ...base, pool: 'far', vdcPools: ['local', 'edge-1'] },
      { outcome: 'deny', field: 'pool', reason: 'the VDC lives in resource pools local, edge-1, not far' },
    ],
    [
      'distinct taints',
      {
        ...base,
        taints: [
          { key: 'edge', effect: 'NoSchedule' as const },
          { key: 'edge', effect: 'NoExecute' as const },
        ],
      },
      ops,
    ],
    [
      'duplicate taint key+effect: denied',
      {
        ...base,
        taints: [
          { key: 'edge', value: 'a', effect: 'NoSchedule' as const },
          { key: 'edge', value: 'b', effect: 'NoSchedule' as const },
        ],
      },
      { outcome: 'deny', field: 'taints' },
    ],
    ['short token: plain reason', { ...base, tokenTtlMinutes: 240 }, { ...ops, reason: 'join node edge-1 to pool local' }],
    ['long token: called out', { ...base, tokenTtlMinutes: 241 }, { ...ops, reason: expect.stringContaining('long-lived join token (241 min)') }],
  ])('%s', (_name, input, expected) => {
    expect(decideNodeJoin(input)).toMatchObject(expected);
  });
});
