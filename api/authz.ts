import { BUILTIN_ROLE_PERMISSIONS, PERMISSION_SCOPE, type Permission } from '../common/permissions.ts';
import { isBuiltinRole, type Role, type RoleBinding, type Scope } from '../common/roles.ts';

/** What a route acts on: the platform itself, a domain, or one VDC (with its domain). */
export type Target = { kind: 'platform' } | { kind: 'domain'; domainId: string } | { kind: 'vdc'; vdcId: string; domainId: string };

export interface CustomRoleDef {
  id: `custom:${string}`;
  /** The role type a custom role stands in for in approval chains (only if it holds ticket:decide). */
  baseRole: Role;
  permissions: readonly Permission[];
}

/** One binding resolved to its permissions. */
export interface Grant {
  roleId: string;
  /** Role type for approval chains, when the grant may decide. */
  approverAs?: Role;
  permissions: ReadonlySet<Permission>;
  scope: Scope;
}

/** Resolves bindings to grants; bindings to unknown custom roles (deleted) grant nothing. */
export function resolveGrants(bindings: readonly RoleBinding[], customRoles: ReadonlyMap<string, CustomRoleDef>): Grant[] {
  const grants: Grant[] = [];
  for (const b of bindings) {
    if (isBuiltinRole(b.role)) {
      grants.push({ roleId: b.role, approverAs: b.role, permissions: new Set(BUILTIN_ROLE_PERMISSIONS[b.role]), scope: b.scope });
      continue;
    }
    const def = customRoles.get(b.role);
    if (!def) continue;
    const permissions = new Set(def.permissions);
    grants.push({ roleId: def.id, ...(permissions.has('ticket:decide') ? { approverAs: def.baseRole } : {}), permissions, scope: b.scope });
  }
  return grants;
}

/** Whether a binding scope covers a target (platform ⊃ domain ⊃ VDC). */
function covers(scope: Scope, target: Target): boolean {
  if (scope.type === 'platform') return true;
  if (scope.type === 'domain') return target.kind !== 'platform' && target.domainId === scope.domainId;
  return target.kind === 'vdc' && target.vdcId === scope.vdcId;
}

/** A permission only takes effect from bindings at or above its level (a VDC binding never grants a platform permission). */
function levelOk(scope: Scope, permission: Permission): boolean {
  const level = PERMISSION_SCOPE[permission];
  if (level === 'platform') return scope.type === 'platform';
  if (level === 'domain') return scope.type !== 'vdc';
  return true;
}

/** The one authorization decision: does any grant give `permission` over `target`? */
export function allows(grants: readonly Grant[], permission: Permission, target: Target): boolean {
  return grants.some((g) => g.permissions.has(permission) && levelOk(g.scope, permission) && covers(g.scope, target));
}

/** Whether `permission` is held anywhere (for list routes that then filter by visibility). */
export function holdsAnywhere(grants: readonly Grant[], permission: Permission): boolean {
  return grants.some((g) => g.permissions.has(permission) && levelOk(g.scope, permission));
}

/** Role types the caller can act as in an approval chain for one VDC. */
export function approverRoles(grants: readonly Grant[], vdc: { vdcId: string; domainId: string }): Role[] {
  const target: Target = { kind: 'vdc', ...vdc };
  return [...new Set(grants.filter((g) => g.approverAs && g.permissions.has('ticket:decide') && covers(g.scope, target)).map((g) => g.approverAs as Role))];
}

/** VDC ids on which the caller holds `permission`, or 'all'. */
export function vdcsWith(grants: readonly Grant[], permission: Permission, allVdcs: readonly { id: string; domainId: string }[]): string[] | 'all' {
  if (grants.some((g) => g.scope.type === 'platform' && g.permissions.has(permission))) return 'all';
  return allVdcs.filter((v) => allows(grants, permission, { kind: 'vdc', vdcId: v.id, domainId: v.domainId })).map((v) => v.id);
}

/**
 * Grants cut down to `allowed` (an API token's permissions): each grant keeps only the allowed permissions
 * and its scope; grants left empty are dropped, and with `scopes` (the token's reach at creation) so are grants
 * elsewhere. A token therefore never exceeds its user's current roles, nor follows a later promotion.
 */
export function restrictGrants(grants: readonly Grant[], allowed: readonly Permission[], scopes?: readonly Scope[]): Grant[] {
  const keep = new Set(allowed);
  const inScope = scopes ? new Set(scopes.map(scopeKey)) : undefined;
  return grants
    .filter((g) => !inScope || inScope.has(scopeKey(g.scope)))
    .map((g) => ({ ...g, permissions: new Set([...g.permissions].filter((p) => keep.has(p))) as ReadonlySet<Permission> }))
    .filter((g) => g.permissions.size > 0);
}

/** A scope as one comparable string: `platform`, `domain:<id>` or `vdc:<id>`. */
export const scopeKey = (s: Scope): string => (s.type === 'platform' ? 'platform' : s.type === 'domain' ? `domain:${s.domainId}` : `vdc:${s.vdcId}`);

/** The distinct scopes of grants holding one of `permissions` (an API token's reach when it is made). */
export function scopesHolding(grants: readonly Grant[], permissions: readonly Permission[]): Scope[] {
  const byKey = new Map<string, Scope>();
  for (const g of grants) {
    if (permissions.some((p) => g.permissions.has(p) && levelOk(g.scope, p))) byKey.set(scopeKey(g.scope), g.scope);
  }
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => s);
}
