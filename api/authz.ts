import { ROLES, type Role, type RoleBinding } from '../common/roles.ts';

/** What a caller may do; each route names one and `rolesFor` + `can` decide it against the object's scope. */
export const PERMISSIONS = {
  ticketCreate: 'ticket:create',
  ticketRead: 'ticket:read',
  ticketDecide: 'ticket:decide',
  vdcRead: 'vdc:read',
} as const;
export type Permission = (typeof PERMISSIONS)[keyof typeof PERMISSIONS];

/** Built-in roles and their permissions (custom roles, a subset of the permission tree, come later). */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  [ROLES.opsAdmin]: [PERMISSIONS.ticketCreate, PERMISSIONS.ticketRead, PERMISSIONS.ticketDecide, PERMISSIONS.vdcRead],
  [ROLES.maintenanceAdmin]: [PERMISSIONS.ticketRead, PERMISSIONS.vdcRead],
  [ROLES.domainAdmin]: [PERMISSIONS.ticketCreate, PERMISSIONS.ticketRead, PERMISSIONS.ticketDecide, PERMISSIONS.vdcRead],
  [ROLES.vdcAdmin]: [PERMISSIONS.ticketCreate, PERMISSIONS.ticketRead, PERMISSIONS.ticketDecide, PERMISSIONS.vdcRead],
  [ROLES.vdcUser]: [PERMISSIONS.ticketCreate, PERMISSIONS.ticketRead, PERMISSIONS.vdcRead],
  [ROLES.finance]: [PERMISSIONS.vdcRead],
};

export interface VdcScope {
  id: string;
  domainId: string;
}

/** Roles a caller holds over one VDC: platform bindings, the VDC's domain, or the VDC itself. */
export function rolesFor(bindings: readonly RoleBinding[], vdc: VdcScope): Role[] {
  const roles = bindings
    .filter(({ scope }) => scope.type === 'platform' || (scope.type === 'domain' && scope.domainId === vdc.domainId) || (scope.type === 'vdc' && scope.vdcId === vdc.id))
    .map((b) => b.role);
  return [...new Set(roles)];
}

export function can(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((r) => ROLE_PERMISSIONS[r]?.includes(permission));
}

/** VDCs on which the caller holds `permission`, or 'all' for a platform-wide grant. */
export function vdcsWith(bindings: readonly RoleBinding[], permission: Permission, allVdcs: readonly VdcScope[]): string[] | 'all' {
  if (bindings.some((b) => b.scope.type === 'platform' && can([b.role], permission))) return 'all';
  return allVdcs.filter((v) => can(rolesFor(bindings, v), permission)).map((v) => v.id);
}
