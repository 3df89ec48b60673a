import type { AuditLog } from '../../common/audit.ts';
import { BUILTIN_ROLE_PERMISSIONS, type Permission, type CustomRole } from '../../common/permissions.ts';
import { isBuiltinRole, ROLES, type Role, type RoleBinding, type Scope, type User } from '../../common/roles.ts';
import {
  BUILTIN_ROLE_LABELS,
  BUILTIN_ROLE_SCOPES,
  customRoleId,
  CUSTOM_ROLE_PREFIX,
  type CreateRole,
  type GrantBinding,
  type PatchRole,
  type PendingBindingView,
  type RoleView,
  type UserView,
} from '../../common/tenancy.ts';
import type { Store } from '../../store/index.ts';
import type { PendingBinding } from '../../store/pending-bindings.ts';
import { allows, scopeKey, type Target } from '../authz.ts';
import { ConflictError, ForbiddenError, InputError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';
import { resolveUserRef } from './user-ref.ts';
import { vdcsTouchedBy, type VdcLifecycle } from './vdc-lifecycle.ts';

export interface AccessDeps {
  store: Store;
  audit: AuditLog;
  /** Brings the RoleBindings of the namespaces of VDCs whose members changed in step (absent: nothing is synced). */
  vdcLifecycle?: VdcLifecycle;
}

/** Where a request came from, for audit entries. */
export interface RequestMeta {
  ip?: string;
}

/** What granting a role confers: its permissions, and the approval-chain role it lets its holder act as. */
export interface RoleGrantDef {
  id: string;
  permissions: readonly Permission[];
  approverAs?: Role;
}

/** A binding whose role and scope were checked to exist, with the target its permissions apply to. */
interface ResolvedBinding {
  binding: RoleBinding;
  def: RoleGrantDef;
  target: Target;
}

/**
 * Approval authority ranks: conferring approval "as" a role needs approval authority of at least that
 * rank over the same target (an ops admin may appoint VDC admins; a VDC admin may not mint ops-admin
 * approvers through a custom role's base role).
 */
const APPROVER_RANK: Partial<Record<Role, number>> = { [ROLES.vdcAdmin]: 1, [ROLES.domainAdmin]: 2, [ROLES.opsAdmin]: 3 };
const rank = (r: Role): number => APPROVER_RANK[r] ?? 0;

const bindingKey = (b: RoleBinding): string => `${b.role}@${scopeKey(b.scope)}`;

/** A binding as a client sends it (role not yet known to exist). */
export interface BindingInput {
  role: string;
  scope: Scope;
}

/** A binding with only the fields of its type, in one field order (stored bindings compare by value). */
export function canonicalBinding(b: RoleBinding): RoleBinding {
  const s = b.scope;
  const scope: Scope =
    s.type === 'platform' ? { type: 'platform' } : s.type === 'domain' ? { type: 'domain', domainId: s.domainId } : { type: 'vdc', vdcId: s.vdcId };
  return { role: b.role, scope };
}

/** The audit actor of a caller (never its grants). */
export const actorOf = (c: Caller): { sub: string; name: string } => ({ sub: c.sub, name: c.name });

const dedupe = (bs: readonly RoleBinding[]): RoleBinding[] => [...new Map(bs.map((b) => [bindingKey(b), canonicalBinding(b)])).values()];

export const isCustomRoleId = (id: string): id is `custom:${string}` => id.startsWith(CUSTOM_ROLE_PREFIX);

export function toUserView(u: User): UserView {
  return {
    sub: u._id,
    username: u.username,
    name: u.name,
    email: u.email,
    bindings: u.bindings ?? [],
    ...(u.lastLoginAt ? { lastLoginAt: new Date(u.lastLoginAt).toISOString() } : {}),
  };
}

export const pendingView = (p: PendingBinding): PendingBindingView => ({
  email: p.email,
  role: p.role,
  scope: p.scope,
  invitedBy: p.invitedBy,
  createdAt: new Date(p.createdAt).toISOString(),
});

function customRoleView(r: CustomRole): RoleView {
  return {
    id: r._id,
    name: r.name,
    builtin: false,
    baseRole: r.baseRole,
    permissions: [...r.permissions],
    scopes: ['platform', 'domain', 'vdc'],
    createdBy: r.createdBy,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

const grantDefOf = (id: string, permissions: readonly Permission[], baseRole: Role): RoleGrantDef => ({
  id,
  permissions,
  ...(permissions.includes('ticket:decide') ? { approverAs: baseRole } : {}),
});

/**
 * Role bindings and custom roles: validation, the no-privilege-escalation rule, compare-and-set writes
 * and their audit entries. Routes have already checked the caller's permission for the route itself.
 */
export function accessService(deps: AccessDeps) {
  const { store, audit } = deps;

  async function roleDef(roleId: string): Promise<RoleGrantDef | null> {
    if (isBuiltinRole(roleId)) return grantDefOf(roleId, BUILTIN_ROLE_PERMISSIONS[roleId], roleId);
    if (!isCustomRoleId(roleId)) return null;
    const r = await store.roles.get(roleId);
    return r ? grantDefOf(r._id, r.permissions, r.baseRole) : null;
  }

  /**
   * What the caller lacks to confer `def` over `target`: every permission of the role must be one the
   * caller holds there, and approval authority no higher than the caller's own. Empty when allowed.
   */
  function lacking(caller: Caller, def: Pick<RoleGrantDef, 'permissions' | 'approverAs'>, target: Target): string[] {
    const missing: string[] = def.permissions.filter((p) => !allows(caller.grants, p, target));
    if (def.approverAs && rank(def.approverAs) > 0) {
      const own = Math.max(0, ...caller.grants.filter((g) => g.approverAs && allows([g], 'ticket:decide', target)).map((g) => rank(g.approverAs as Role)));
      if (own < rank(def.approverAs)) missing.push(`approval as ${def.approverAs}`);
    }
    return missing;
  }

  const targetName = (t: Target): string => (t.kind === 'platform' ? 'the platform' : t.kind === 'domain' ? `domain ${t.domainId}` : `VDC ${t.vdcId}`);

  /** Refuses (403, audited as a failed grant) a grant the caller could not hold themselves. */
  async function assertCanGrant(caller: Caller, sub: string, r: ResolvedBinding, meta: RequestMeta): Promise<void> {
    const missing = lacking(caller, r.def, r.target);
    if (missing.length === 0) return;
    const reason = `you cannot grant ${r.def.id} on ${targetName(r.target)}: it holds ${missing.join(', ')}, which you do not hold there`;
    await audit.append({
      actor: actorOf(caller),
      action: 'binding.grant',
      target: `user:${sub}`,
      outcome: 'failure',
      details: { role: r.binding.role, scope: r.binding.scope, reason },
      ...meta,
    });
    throw new ForbiddenError(reason);
  }

  /**
   * Refuses (403, audited as a failed revoke) taking away a binding the caller could not have granted: a VDC
   * admin cannot strip a platform role's holder of a custom role carrying platform-level authority. Bindings
   * whose role or scope is already gone may always be removed.
   */
  async function assertCanRevoke(caller: Caller, sub: string, b: RoleBinding, meta: RequestMeta): Promise<void> {
    const def = await roleDef(b.role);
    if (!def) return;
    let target: Target;
    if (b.scope.type === 'platform') target = { kind: 'platform' };
    else if (b.scope.type === 'domain') target = { kind: 'domain', domainId: b.scope.domainId };
    else {
      const vdc = await store.vdcs.get(b.scope.vdcId);
      if (!vdc) return;
      target = { kind: 'vdc', vdcId: vdc._id, domainId: vdc.domainId };
    }
    const missing = lacking(caller, def, target);
    if (missing.length === 0) return;
    const reason = `you cannot revoke ${def.id} on ${targetName(target)}: it holds ${missing.join(', ')}, which you do not hold there`;
    await audit.append({
      actor: actorOf(caller),
      action: 'binding.revoke',
      target: `user:${sub}`,
      outcome: 'failure',
      details: { role: b.role, scope: b.scope, reason },
      ...meta,
    });
    throw new ForbiddenError(reason);
  }

  /**
   * Refuses (403, audited as a failed invitation) inviting an email to a binding the caller could not grant.
   * Shared by every route that invites by email.
   */
  async function assertCanInvite(caller: Caller, email: string, r: ResolvedBinding, meta: RequestMeta): Promise<void> {
    const missing = lacking(caller, r.def, r.target);
    if (missing.length === 0) return;
    const reason = `you cannot grant ${r.def.id} on ${targetName(r.target)}: it holds ${missing.join(', ')}, which you do not hold there`;
    await audit.append({
      actor: actorOf(caller),
      action: 'binding.invite',
      target: `email:${email}`,
      outcome: 'failure',
      details: { role: r.binding.role, scope: r.binding.scope, reason },
      ...meta,
    });
    throw new ForbiddenError(reason);
  }

  async function loadUser(sub: string): Promise<User> {
    const u = await store.users.get(sub);
    if (!u) throw new NotFoundError(`no user ${sub} (users are known after their first sign-in)`);
    return u;
  }

  /**
   * Replaces a user's bindings with `compute(current)` by compare-and-set (re-reading and recomputing when
   * another writer got there first); `guard` sees each binding being added and removed before anything is written.
   * Appends `binding.grant` / `binding.revoke` for the difference.
   */
  async function changeBindings(
    actor: Caller,
    sub: string,
    compute: (current: readonly RoleBinding[]) => RoleBinding[],
    guard: (added: RoleBinding[], removed: RoleBinding[]) => Promise<void>,
    meta: RequestMeta,
  ): Promise<User> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const user = await loadUser(sub);
      const current = user.bindings ?? [];
      const next = dedupe(compute(current));
      const before = new Set(current.map(bindingKey));
      const after = new Set(next.map(bindingKey));
      const added = next.filter((b) => !before.has(bindingKey(b)));
      const removed = current.filter((b) => !after.has(bindingKey(b)));
      await guard(added, removed);
      if (added.length === 0 && removed.length === 0) return user;
      if (!(await store.users.replaceBindings(sub, user.bindings, next))) continue;
      for (const b of added)
        await audit.append({
          actor: actorOf(actor),
          action: 'binding.grant',
          target: `user:${sub}`,
          outcome: 'success',
          details: { role: b.role, scope: b.scope },
          ...meta,
        });
      for (const b of removed)
        await audit.append({
          actor: actorOf(actor),
          action: 'binding.revoke',
          target: `user:${sub}`,
          outcome: 'success',
          details: { role: b.role, scope: b.scope },
          ...meta,
        });
      await syncVdcMembers(actor, [...added, ...removed], meta);
      return { ...user, bindings: next };
    }
    throw new ConflictError(`the bindings of ${sub} kept changing concurrently; retry`);
  }

  /**
   * Member-change hook: asks the lifecycle workflow of every VDC the changed bindings touch to bring the
   * RoleBindings of all its namespaces in step (signal-with-start; a change during a running pass makes another).
   * The bindings are written already, so a Temporal outage does not fail the request: it is audited as a
   * `vdc.members-sync` failure and `POST /api/vdcs/:id/provision` re-runs the sync.
   */
  async function syncVdcMembers(actor: Caller, changed: readonly RoleBinding[], meta: RequestMeta): Promise<void> {
    if (!deps.vdcLifecycle) return;
    for (const vdcId of await vdcsTouchedBy(changed, store.vdcs)) {
      try {
        await deps.vdcLifecycle.request(vdcId, 'members');
      } catch (err) {
        await audit.append({
          actor: actorOf(actor),
          action: 'vdc.members-sync',
          target: `vdc:${vdcId}`,
          outcome: 'failure',
          details: { error: err instanceof Error ? err.message : String(err) },
          ...meta,
        });
      }
    }
  }

  /** Checks each binding's role and scope exist and fit; 400 naming `bindings[i].…`. */
  async function resolveBindings(bindings: readonly BindingInput[], field: string | null): Promise<ResolvedBinding[]> {
    const errors: { field: string; message: string }[] = [];
    const resolved: ResolvedBinding[] = [];
    for (const [i, b] of bindings.entries()) {
      // `field: null`: one binding whose fields are the body's own (`role`, `scope.type`).
      const at = field === null ? '' : `${field}[${i}]`;
      const f = (k: string): string => (at ? `${at}.${k}` : k);
      const def = await roleDef(b.role);
      if (!def) {
        errors.push({ field: f('role'), message: `unknown role ${b.role}` });
        continue;
      }
      if (isBuiltinRole(b.role) && !BUILTIN_ROLE_SCOPES[b.role].includes(b.scope.type)) {
        errors.push({ field: f('scope.type'), message: `${b.role} can only be bound at ${BUILTIN_ROLE_SCOPES[b.role].join(' or ')} scope` });
        continue;
      }
      let target: Target;
      if (b.scope.type === 'platform') target = { kind: 'platform' };
      else if (b.scope.type === 'domain') {
        if (!(await store.domains.get(b.scope.domainId))) {
          errors.push({ field: f('scope.domainId'), message: `no domain ${b.scope.domainId}` });
          continue;
        }
        target = { kind: 'domain', domainId: b.scope.domainId };
      } else {
        const vdc = await store.vdcs.get(b.scope.vdcId);
        if (!vdc) {
          errors.push({ field: f('scope.vdcId'), message: `no VDC ${b.scope.vdcId}` });
          continue;
        }
        target = { kind: 'vdc', vdcId: vdc._id, domainId: vdc.domainId };
      }
      resolved.push({ binding: canonicalBinding({ role: def.id as RoleBinding['role'], scope: b.scope }), def, target });
    }
    if (errors.length > 0) throw new InputError(`invalid bindings: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
    return resolved;
  }

  return {
    roleDef,
    lacking,
    loadUser,
    changeBindings,
    assertCanGrant,
    assertCanRevoke,
    assertCanInvite,

    async listUsers(): Promise<UserView[]> {
      return (await store.users.list()).map(toUserView);
    },

    /** Bindings invited by email at platform or domain scope (VDC invitations are listed with the VDC's members). */
    async listPending(): Promise<PendingBindingView[]> {
      return (await store.pendingBindings.list()).filter((p) => p.scope.type !== 'vdc').map(pendingView);
    },

    /**
     * `POST /bindings`: grants one binding to a user named by username or email (no escalation, as for
     * `PUT /users/:sub/bindings`). An email nobody signed in with becomes a pending binding, applied at that
     * email's first verified sign-in (`binding.invite`).
     */
    async grantByName(caller: Caller, body: GrantBinding, meta: RequestMeta): Promise<{ user: UserView } | { pending: PendingBindingView }> {
      const [r] = await resolveBindings([{ role: body.role, scope: body.scope }], null);
      const resolved = r as ResolvedBinding;
      const who = await resolveUserRef(store, body.user, 'user');
      if (who.kind === 'user') {
        const sub = who.user._id;
        const user = await changeBindings(
          caller,
          sub,
          (current) => [...current, resolved.binding],
          async (added) => {
            if (added.length > 0) await assertCanGrant(caller, sub, resolved, meta);
          },
          meta,
        );
        return { user: toUserView(user) };
      }
      await assertCanInvite(caller, who.email, resolved, meta);
      if (await store.pendingBindings.add(who.email, resolved.binding, actorOf(caller))) {
        await audit.append({
          actor: actorOf(caller),
          action: 'binding.invite',
          target: `email:${who.email}`,
          outcome: 'success',
          details: { role: resolved.binding.role, scope: resolved.binding.scope },
          ...meta,
        });
      }
      const pending = (await store.pendingBindings.forEmail(who.email)).find(
        (p) => p.role === resolved.binding.role && p.scopeKey === scopeKey(resolved.binding.scope),
      );
      if (!pending) throw new ConflictError(`the invitation of ${who.email} was applied or withdrawn meanwhile; retry`);
      return { pending: pendingView(pending) };
    },

    /** `PUT /users/:sub/bindings`: replaces every binding of the user (validated, no escalation). */
    async putBindings(caller: Caller, sub: string, bindings: readonly BindingInput[], meta: RequestMeta): Promise<UserView> {
      const resolved = await resolveBindings(bindings, 'bindings');
      const byKey = new Map(resolved.map((r) => [bindingKey(r.binding), r]));
      const user = await changeBindings(
        caller,
        sub,
        () => resolved.map((r) => r.binding),
        async (added, removed) => {
          for (const b of removed) await assertCanRevoke(caller, sub, b, meta);
          for (const b of added) await assertCanGrant(caller, sub, byKey.get(bindingKey(b)) as ResolvedBinding, meta);
        },
        meta,
      );
      return toUserView(user);
    },

    /** Removes every binding scoped to a deleted domain or VDC (audited as revokes). */
    async revokeScope(caller: Caller, scope: { type: 'domain'; domainId: string } | { type: 'vdc'; vdcId: string }, meta: RequestMeta): Promise<void> {
      const key = scopeKey(scope);
      await store.pendingBindings.removeScope(scope);
      for (const u of await store.users.withScope(scope)) {
        await changeBindings(
          caller,
          u._id,
          (current) => current.filter((b) => scopeKey(b.scope) !== key),
          async () => undefined,
          meta,
        ).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
      }
    },

    async listRoles(): Promise<RoleView[]> {
      const builtin: RoleView[] = Object.values(ROLES).map((r) => ({
        id: r,
        name: BUILTIN_ROLE_LABELS[r].en,
        builtin: true,
        baseRole: r,
        permissions: [...BUILTIN_ROLE_PERMISSIONS[r]],
        scopes: [...BUILTIN_ROLE_SCOPES[r]],
      }));
      return [...builtin, ...(await store.roles.listCustom()).map(customRoleView)];
    },

    /** `POST /roles`: a custom role may only hold permissions (and approval authority) its author holds on the platform. */
    async createRole(caller: Caller, body: CreateRole, meta: RequestMeta): Promise<RoleView> {
      const id = customRoleId(body.id);
      const permissions = [...new Set(body.permissions)];
      const missing = lacking(caller, grantDefOf(id, permissions, body.baseRole), { kind: 'platform' });
      if (missing.length > 0) {
        const reason = `you cannot define a role holding ${missing.join(', ')}, which you do not hold on the platform`;
        await audit.append({
          actor: actorOf(caller),
          action: 'role.create',
          target: `role:${id}`,
          outcome: 'failure',
          details: { permissions, baseRole: body.baseRole, reason },
          ...meta,
        });
        throw new ForbiddenError(reason);
      }
      if (!(await store.roles.create({ _id: id, name: body.name, baseRole: body.baseRole, permissions, createdBy: caller.sub })))
        throw new ConflictError(`role ${id} already exists`);
      await audit.append({
        actor: actorOf(caller),
        action: 'role.create',
        target: `role:${id}`,
        outcome: 'success',
        details: { name: body.name, baseRole: body.baseRole, permissions },
        ...meta,
      });
      return customRoleView((await store.roles.get(id)) as CustomRole);
    },

    /** `PATCH /roles/:id`: what the change adds (permissions, approval authority) must be the caller's own. */
    async updateRole(caller: Caller, id: `custom:${string}`, patch: PatchRole, meta: RequestMeta): Promise<RoleView> {
      const existing = await store.roles.get(id);
      if (!existing) throw new NotFoundError(`no role ${id}`);
      const permissions = patch.permissions ? [...new Set(patch.permissions)] : existing.permissions;
      const baseRole = patch.baseRole ?? existing.baseRole;
      const before = grantDefOf(id, existing.permissions, existing.baseRole);
      const after = grantDefOf(id, permissions, baseRole);
      const added = {
        permissions: permissions.filter((p) => !existing.permissions.includes(p)),
        ...(after.approverAs && after.approverAs !== before.approverAs ? { approverAs: after.approverAs } : {}),
      };
      const missing = lacking(caller, added, { kind: 'platform' });
      if (missing.length > 0) {
        const reason = `you cannot give role ${id} ${missing.join(', ')}, which you do not hold on the platform`;
        await audit.append({ actor: actorOf(caller), action: 'role.update', target: `role:${id}`, outcome: 'failure', details: { ...patch, reason }, ...meta });
        throw new ForbiddenError(reason);
      }
      const set = {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.baseRole ? { baseRole } : {}),
        ...(patch.permissions ? { permissions } : {}),
      };
      if (!(await store.roles.update(id, set))) throw new NotFoundError(`no role ${id}`);
      await audit.append({
        actor: actorOf(caller),
        action: 'role.update',
        target: `role:${id}`,
        outcome: 'success',
        details: {
          before: { name: existing.name, baseRole: existing.baseRole, permissions: existing.permissions },
          after: { name: patch.name ?? existing.name, baseRole, permissions },
        },
        ...meta,
      });
      return customRoleView((await store.roles.get(id)) as CustomRole);
    },

    /** `DELETE /roles/:id`: refused while any user holds a binding of the role. */
    async deleteRole(caller: Caller, id: `custom:${string}`, meta: RequestMeta): Promise<void> {
      const existing = await store.roles.get(id);
      if (!existing) throw new NotFoundError(`no role ${id}`);
      const bound = await store.users.countBoundTo(id);
      if (bound > 0) throw new ConflictError(`role ${id} is still bound to ${bound} user${bound === 1 ? '' : 's'}; revoke those bindings first`);
      if (!(await store.roles.remove(id))) throw new NotFoundError(`no role ${id}`);
      await audit.append({
        actor: actorOf(caller),
        action: 'role.delete',
        target: `role:${id}`,
        outcome: 'success',
        details: { name: existing.name, baseRole: existing.baseRole, permissions: existing.permissions },
        ...meta,
      });
    },
  };
}
export type AccessService = ReturnType<typeof accessService>;
