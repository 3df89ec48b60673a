import { describe, expect, it } from 'vitest';
import type { Role } from '../common/roles.ts';
import { decideSpaceCreate, decideSpaceDelete, MAX_SPACES_PER_VDC } from './space.ts';

const space = (name: string) => ({ name, status: 'active' as const });
const user: Role[] = ['vdc-user'];
const admin: Role[] = ['vdc-admin'];

describe('application space policy', () => {
  it.each([
    ['VDC user: one VDC admin step', { name: 'web', spaces: [], requesterRoles: user }, { outcome: 'approval', chain: [{ step: 0, role: 'vdc-admin' }] }],
    ['VDC admin: auto-approved', { name: 'web', spaces: [], requesterRoles: admin }, { outcome: 'auto-approve', chain: [] }],
    ['domain admin is not a VDC admin', { name: 'web', spaces: [], requesterRoles: ['domain-admin'] as Role[] }, { outcome: 'approval' }],
    ['name already a space', { name: 'web', spaces: [space('web')], requesterRoles: admin }, { outcome: 'deny', field: 'name' }],
    [
      'VDC full',
      { name: 'x', spaces: Array.from({ length: MAX_SPACES_PER_VDC }, (_, i) => space(`s${i}`)), requesterRoles: admin },
      { outcome: 'deny', field: 'name' },
    ],
  ])('create: %s', (_name, input, expected) => {
    expect(decideSpaceCreate(input)).toMatchObject(expected);
  });

  it.each([
    ['VDC user', { name: 'web', spaces: [space('web')], requesterRoles: user }, { outcome: 'approval', chain: [{ step: 0, role: 'vdc-admin' }] }],
    [
      'VDC admin still needs another VDC admin',
      { name: 'web', spaces: [space('web')], requesterRoles: admin },
      { outcome: 'approval', chain: [{ step: 0, role: 'vdc-admin' }] },
    ],
    ['unknown space', { name: 'nope', spaces: [space('web')], requesterRoles: admin }, { outcome: 'deny', field: 'name' }],
  ])('delete: %s', (_name, input, expected) => {
    expect(decideSpaceDelete(input)).toMatchObject(expected);
  });
});
