import { describe, expect, it } from 'vitest';
import { ROLES } from '../common/roles.ts';
import { decideImagePublish, IMAGE_PUBLISH_POLICY_VERSION } from './image-publish.ts';

describe('image publish policy', () => {
  it.each([
    ['private', false, [ROLES.vdcUser], [ROLES.vdcAdmin]],
    ['public', false, [ROLES.vdcUser], [ROLES.vdcAdmin, ROLES.opsAdmin]],
    ['private', true, [ROLES.opsAdmin], [ROLES.vdcAdmin]],
    ['public', true, [ROLES.opsAdmin], [ROLES.vdcAdmin, ROLES.opsAdmin]],
  ] as const)('%s, override %s by %j → chain %j', (visibility, scanOverride, requesterRoles, roles) => {
    const d = decideImagePublish({ visibility, scanOverride, requesterRoles });
    expect(d.version).toBe(IMAGE_PUBLISH_POLICY_VERSION);
    expect(d.outcome).toBe('approval');
    expect(d.outcome === 'approval' ? d.chain.map((s) => s.role) : []).toEqual(roles);
  });

  it('denies a scan override asked for by anyone but an operations admin, naming the field', () => {
    expect(decideImagePublish({ visibility: 'private', scanOverride: true, requesterRoles: [ROLES.vdcAdmin, ROLES.domainAdmin] })).toMatchObject({
      outcome: 'deny',
      field: 'scanOverride',
    });
  });
});
