import type { PutBudget } from '../../common/budget.ts';
import type { AuditLog } from '../../common/audit.ts';
import { ROLES, type RoleBinding, type User } from '../../common/roles.ts';
import {
  placementNamespace,
  vdcPools,
  type CreateDomain,
  type CreateVdc,
  type DomainDetailView,
  type DomainView,
  type MemberBindingView,
  type MemberView,
  type NamespaceStatus,
  type PutVdcLabels,
  type VdcView,
  type Vdc,
} from '../../common/tenancy.ts';
import { QUOTA_CEILING } from '../../policies/quota-change.ts';
import { storageQuotaGi, type Quota } from '../../common/tickets.ts';
import type { Store } from '../../store/index.ts';
import type { PendingBinding } from '../../store/pending-bindings.ts';
import { allows } from '../authz.ts';
import { ConflictError, InputError, NotFoundError, PolicyDeniedError } from '../errors.ts';
import { actorOf, isCustomRoleId, type AccessService, type RequestMeta } from './access.ts';
import { resolveUserRef } from './user-ref.ts';
import { seesAllUsers } from './user-directory.ts';
import type { Caller } from './caller.ts';
import type { VdcRegistryProvisioning } from './harbor-provisioning.ts';
import type { VdcLifecycle } from './vdc-lifecycle.ts';

export interface TenancyDeps {
  store: Store;
  audit: AuditLog;
  access: AccessService;
  /** With Harbor as the registry: starts the provisioning of a new VDC's Harbor projects and robot. */
  registryProvisioning?: VdcRegistryProvisioning;
  /**
   * Provisions, re-syncs and deletes VDCs through their lifecycle workflow. Without it a new VDC stays
   * `provisioning` and deletion is refused (there is nothing to remove its namespaces).
   */
  vdcLifecycle?: VdcLifecycle;
}

/** Roles that can be bound on a VDC through its members API (plus custom roles). */
const VDC_ROLES: readonly string[] = [ROLES.vdcAdmin, ROLES.vdcUser];

/** A VDC's first namespace exists unless the record says it was only requested (seeded records predate the field). */
const namespaceStatusOf = (vdc: Vdc): NamespaceStatus => vdc.namespaceStatus ?? 'active';

/** Namespaces of the VDC that exist per its record: its first namespace once created, and every application space (also while being deleted). */
export function liveNamespaces(vdc: Vdc): string[] {
  const first = vdc.namespace && namespaceStatusOf(vdc) === 'active' ? [vdc.namespace] : [];
  return [...new Set([...first, ...(vdc.spaces ?? []).map((s) => s.namespace)])];
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function toMember(u: User, vdcId: string): MemberView {
  const roles = (u.bindings ?? []).filter((b) => b.scope.type === 'vdc' && b.scope.vdcId === vdcId).map((b) => b.role);
  return { sub: u._id, username: u.username, name: u.name, email: u.email, roles };
}

const onVdc =
  (vdcId: string) =>
  (b: RoleBinding): boolean =>
    b.scope.type === 'vdc' && b.scope.vdcId === vdcId;
const isMember = (u: User | null, vdcId: string): u is User => !!u && (u.bindings ?? []).some(onVdc(vdcId));
/** One answer for an unknown sub and a user who is not a member: neither may tell a members manager who exists. */
const notAMember = (sub: string, vdcId: string): NotFoundError => new NotFoundError(`${sub} is not a member of VDC ${vdcId}`);

function toMemberBinding(u: User, vdcId: string): MemberBindingView {
  return { vdcId, sub: u._id, roles: (u.bindings ?? []).filter(onVdc(vdcId)).map((b) => b.role) };
}

/** Pending invitations of one VDC, one member row per email. */
function pendingMembers(pending: readonly PendingBinding[]): MemberView[] {
  const byEmail = new Map<string, string[]>();
  for (const p of pending) byEmail.set(p.email, [...(byEmail.get(p.email) ?? []), p.role]);
  return [...byEmail.entries()].map(([email, roles]) => ({ sub: '', username: '', name: '', email, roles, pending: true }));
}

/** Domains, VDCs and VDC members; routes have checked the caller's permission on the target already. */
export function tenancyService(deps: TenancyDeps) {
  const { store, audit, access } = deps;

  async function loadVdc(id: string): Promise<Vdc> {
    const vdc = await store.vdcs.get(id);
    if (!vdc) throw new NotFoundError(`VDC ${id} not found`);
    return vdc;
  }

  type RoleDef = NonNullable<Awaited<ReturnType<AccessService['roleDef']>>>;
  /** The definitions of roles bindable on a VDC (vdc-admin, vdc-user, custom roles); 400 naming `roles[i]` otherwise. */
  async function vdcRoleDefs(roles: readonly string[]): Promise<Map<string, RoleDef>> {
    const errors: { field: string; message: string }[] = [];
    const defs = new Map<string, RoleDef>();
    for (const [i, role] of roles.entries()) {
      if (!VDC_ROLES.includes(role) && !isCustomRoleId(role)) {
        errors.push({ field: `roles[${i}]`, message: `${role} cannot be bound to a VDC (use vdc-admin, vdc-user or a custom role)` });
        continue;
      }
      const def = await access.roleDef(role);
      if (!def) errors.push({ field: `roles[${i}]`, message: `unknown role ${role}` });
      else defs.set(role, def);
    }
    if (errors.length > 0) throw new InputError(`invalid roles: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
    return defs;
  }

  /**
   * Sends a request to the VDC's lifecycle workflow, audited as `vdc.<action>-requested`. A failure to reach
   * Temporal is audited and, for `provision`, leaves the VDC as it is for a retry (`POST /api/vdcs/:id/provision`).
   */
  async function requestLifecycle(caller: Caller, vdcId: string, action: 'provision' | 'delete', meta: RequestMeta): Promise<void> {
    const audited = { actor: actorOf(caller), action: `vdc.${action}-requested`, target: `vdc:${vdcId}`, ...meta };
    if (!deps.vdcLifecycle) {
      await audit.append({ ...audited, outcome: 'failure', details: { error: 'no VDC lifecycle workflow configured' } });
      return;
    }
    try {
      const { workflowId } = await deps.vdcLifecycle.request(vdcId, action, actorOf(caller) ?? undefined);
      await audit.append({ ...audited, outcome: 'success', details: { workflowId } });
    } catch (err) {
      await audit.append({ ...audited, outcome: 'failure', details: { error: err instanceof Error ? err.message : String(err) } });
      if (action === 'delete') throw err;
    }
  }

  async function vdcView(vdc: Vdc): Promise<VdcView> {
    const members = await store.users.withScope({ type: 'vdc', vdcId: vdc._id });
    return {
      id: vdc._id,
      name: vdc.name,
      domainId: vdc.domainId,
      namespace: vdc.namespace,
      pool: vdc.pool,
      quota: vdc.quota ?? {},
      pools: vdcPools(vdc),
      ...(vdc.provisioning ? { provisioning: vdc.provisioning } : {}),
      namespaceStatus: namespaceStatusOf(vdc),
      spaces: vdc.spaces ?? [],
      membersCount: members.length,
      ...(vdc.monthlyBudget ? { monthlyBudget: vdc.monthlyBudget } : {}),
      labels: Object.fromEntries((vdc.labels ?? []).map((l) => [l.key, l.value])),
    };
  }

  /**
   * Sets a user's roles on one VDC: only VDC-level roles (vdc-admin, vdc-user, custom roles), only roles whose
   * permissions the caller holds on this VDC (no escalation), and never taking the VDC's last vdc-admin binding.
   */
  async function setMemberRoles(caller: Caller, vdcId: string, sub: string, roles: readonly string[], meta: RequestMeta): Promise<MemberBindingView> {
    const vdc = await loadVdc(vdcId);
    const target = { kind: 'vdc', vdcId, domainId: vdc.domainId } as const;
    const defs = await vdcRoleDefs(roles);
    const user = await access.changeBindings(
      caller,
      sub,
      (current) => [
        ...current.filter((b) => !onVdc(vdcId)(b)),
        ...roles.map((role) => ({ role: role as RoleBinding['role'], scope: { type: 'vdc' as const, vdcId } })),
      ],
      async (added, removed) => {
        await assertKeepsAnAdmin(vdcId, sub, removed);
        for (const b of removed) await access.assertCanRevoke(caller, sub, b, meta);
        for (const b of added) await access.assertCanGrant(caller, sub, { binding: b, def: defs.get(b.role)!, target }, meta);
      },
      meta,
    );
    return toMemberBinding(user, vdcId);
  }

  /**
   * 409 when `removed` takes the only vdc-admin binding of the VDC (a VDC must keep an administrator; grant
   * vdc-admin to another member first). Checked inside the compare-and-set loop, so a retry checks again.
   */
  async function assertKeepsAnAdmin(vdcId: string, sub: string, removed: readonly RoleBinding[]): Promise<void> {
    if (!removed.some((b) => b.role === ROLES.vdcAdmin && onVdc(vdcId)(b))) return;
    const admins = (await store.users.withScope({ type: 'vdc', vdcId })).filter((u) =>
      (u.bindings ?? []).some((b) => b.role === ROLES.vdcAdmin && onVdc(vdcId)(b)),
    );
    if (admins.every((u) => u._id === sub))
      throw new ConflictError(`the vdc-admin binding of ${sub} is the last vdc-admin binding of VDC ${vdcId}; grant vdc-admin to another member first`);
  }

  const service = {
    /** The scope of a domain for the route's permission check; 404 when there is none. */
    async domainScope(id: string): Promise<{ domainId: string }> {
      if (!(await store.domains.get(id))) throw new NotFoundError(`domain ${id} not found`);
      return { domainId: id };
    },

    /** The scope of a VDC for the route's permission check; 404 when there is none. */
    async vdcScope(id: string): Promise<{ vdcId: string; domainId: string }> {
      const vdc = await loadVdc(id);
      return { vdcId: vdc._id, domainId: vdc.domainId };
    },

    async listDomains(caller: Caller): Promise<DomainView[]> {
      const [domains, counts] = await Promise.all([store.domains.list(), store.vdcs.countByDomain()]);
      return domains
        .filter((d) => allows(caller.grants, 'domain:read', { kind: 'domain', domainId: d._id }))
        .map((d) => ({ id: d._id, name: d.name, vdcCount: counts.get(d._id) ?? 0 }));
    },

    async getDomain(caller: Caller, id: string): Promise<DomainDetailView> {
      const d = await store.domains.get(id);
      if (!d) throw new NotFoundError(`domain ${id} not found`);
      const vdcs = await store.vdcs.listInDomain(id);
      const visible = vdcs.filter((v) => allows(caller.grants, 'vdc:read', { kind: 'vdc', vdcId: v._id, domainId: v.domainId }));
      return { id: d._id, name: d.name, vdcCount: vdcs.length, vdcs: visible.map((v) => ({ id: v._id, name: v.name })) };
    },

    async createDomain(caller: Caller, body: CreateDomain, meta: RequestMeta): Promise<DomainView> {
      if (!(await store.domains.create({ _id: body.id, name: body.name }))) throw new ConflictError(`domain ${body.id} already exists`);
      await audit.append({
        actor: actorOf(caller),
        action: 'domain.create',
        target: `domain:${body.id}`,
        outcome: 'success',
        details: { name: body.name },
        ...meta,
      });
      return { id: body.id, name: body.name, vdcCount: 0 };
    },

    /**
     * Deletes an empty domain and the bindings scoped to it. The domain is flagged first and its VDCs
     * counted after, while a VDC create inserts first and checks the flag after, so one of the two always
     * sees the other and a domain never disappears from under a new VDC.
     */
    async deleteDomain(caller: Caller, id: string, meta: RequestMeta): Promise<void> {
      if (!(await store.domains.beginDelete(id))) {
        if (!(await store.domains.get(id))) throw new NotFoundError(`domain ${id} not found`);
        throw new ConflictError(`domain ${id} is already being deleted`);
      }
      const vdcs = await store.vdcs.listInDomain(id);
      if (vdcs.length > 0) {
        await store.domains.cancelDelete(id);
        const names = vdcs
          .slice(0, 10)
          .map((v) => v._id)
          .join(', ');
        throw new ConflictError(`domain ${id} still holds ${plural(vdcs.length, 'VDC')} (${names}${vdcs.length > 10 ? ', …' : ''}); delete them first`);
      }
      // Bindings go first: a failure after this leaves a domain without members, never members of a
      // deleted domain that a later domain with the same id would inherit.
      await access.revokeScope(caller, { type: 'domain', domainId: id }, meta);
      await store.domains.remove(id);
      await audit.append({ actor: actorOf(caller), action: 'domain.delete', target: `domain:${id}`, outcome: 'success', ...meta });
    },

    async getVdc(id: string): Promise<VdcView> {
      return vdcView(await loadVdc(id));
    },

    /** Sets or removes the VDC's monthly budget (the route requires `vdc:create` on the VDC: domain or ops admins); audited. */
    async setBudget(caller: Caller, id: string, body: PutBudget, meta: RequestMeta): Promise<VdcView> {
      const before = await loadVdc(id);
      if (!(await store.vdcs.setBudget(id, body.monthlyBudget))) throw new NotFoundError(`VDC ${id} not found`);
      await audit.append({
        actor: actorOf(caller),
        action: 'vdc.budget',
        target: `vdc:${id}`,
        outcome: 'success',
        details: { from: before.monthlyBudget ?? null, to: body.monthlyBudget },
        ...meta,
      });
      return vdcView(await loadVdc(id));
    },

    /** Replaces the VDC's billing labels (the route requires `vdc:create` on the VDC: domain or ops admins); audited. */
    async setLabels(caller: Caller, id: string, body: PutVdcLabels, meta: RequestMeta): Promise<VdcView> {
      const before = await vdcView(await loadVdc(id));
      if (!(await store.vdcs.setLabels(id, body.labels))) throw new NotFoundError(`VDC ${id} not found`);
      await audit.append({
        actor: actorOf(caller),
        action: 'vdc.labels',
        target: `vdc:${id}`,
        outcome: 'success',
        details: { from: before.labels, to: body.labels },
        ...meta,
      });
      return vdcView(await loadVdc(id));
    },

    /**
     * Records a new VDC on the pools of the body (the first is its primary pool), each with its quota and its
     * default namespace (`vdc-<id>` on the primary pool, `vdc-<id>-<pool>` on the others), as `provisioning`;
     * then starts its provisioning workflow (namespaces, quotas, limits, RBAC on every pool; no approval: an
     * administrator made it). A pool that is not registered, or is being deleted, is refused naming the field.
     * With Harbor as the registry the provisioning workflow of its projects and robot is started as well (not
     * awaited); a failure to start either is audited and leaves the VDC `provisioning` for a retry.
     */
    async createVdc(caller: Caller, domainId: string, body: CreateVdc, meta: RequestMeta): Promise<VdcView> {
      const errors: { field: string; message: string }[] = [];
      for (const [i, p] of body.pools.entries()) {
        for (const [resource, amount] of Object.entries(p.quota) as [keyof typeof QUOTA_CEILING, number][]) {
          if (amount > QUOTA_CEILING[resource])
            errors.push({
              field: `pools[${i}].quota.${resource}`,
              message: `${resource} ${amount} exceeds the platform ceiling of ${QUOTA_CEILING[resource]} per VDC`,
            });
        }
      }
      if (errors.length > 0) throw new PolicyDeniedError(errors.map((e) => e.message).join('; '), errors);
      for (const [i, p] of body.pools.entries()) {
        const pool = await store.pools.get(p.pool);
        if (!pool)
          throw new PolicyDeniedError(`resource pool ${p.pool} is not registered`, [
            { field: `pools[${i}].pool`, message: `resource pool ${p.pool} is not registered` },
          ]);
      }
      // Storage is quota: a pool's quota given without it gets the default, so its ResourceQuota bounds requests.storage.
      const withStorage = (q: CreateVdc['pools'][number]['quota']): Quota => ({ ...q, storageGi: storageQuotaGi(q) });
      const [primary, ...others] = body.pools.map((p) => ({ ...p, quota: withStorage(p.quota) })) as [
        { pool: string; quota: Quota },
        ...{ pool: string; quota: Quota }[],
      ];
      const namespace = placementNamespace(body.id, primary.pool, true);
      const vdc: Vdc = {
        _id: body.id,
        name: body.name,
        domainId,
        namespace,
        namespaceStatus: 'requested',
        pool: primary.pool,
        quota: primary.quota,
        ...(others.length ? { placements: others.map((p) => ({ pool: p.pool, namespace: placementNamespace(body.id, p.pool, false), quota: p.quota })) } : {}),
        provisioning: { state: 'provisioning', at: new Date().toISOString() },
      };
      if (!(await store.domains.isOpen(domainId))) throw new ConflictError(`domain ${domainId} is being deleted`);
      // Leftover bindings to an earlier VDC of this id (a delete that raced a member change) must not
      // become grants on the new one.
      if ((await store.users.withScope({ type: 'vdc', vdcId: body.id })).length > 0)
        throw new ConflictError(`VDC id ${body.id} is still referenced by role bindings; choose another id`);
      if (!(await store.vdcs.create(vdc))) throw new ConflictError(`VDC ${body.id} already exists`);
      if (!(await store.domains.isOpen(domainId))) {
        await store.vdcs.remove(body.id);
        throw new ConflictError(`domain ${domainId} is being deleted`);
      }
      await audit.append({
        actor: actorOf(caller),
        action: 'vdc.create',
        target: `vdc:${body.id}`,
        outcome: 'success',
        details: { domainId, name: body.name, pools: vdcPools(vdc).map((p) => ({ pool: p.pool, namespace: p.namespace, quota: p.quota })) },
        ...meta,
      });
      await requestLifecycle(caller, body.id, 'provision', meta);
      if (deps.registryProvisioning) {
        try {
          const { workflowId } = await deps.registryProvisioning.start(body.id);
          await audit.append({
            actor: actorOf(caller),
            action: 'vdc.registry-provision',
            target: `vdc:${body.id}`,
            outcome: 'success',
            details: { workflowId },
            ...meta,
          });
        } catch (err) {
          await audit.append({
            actor: actorOf(caller),
            action: 'vdc.registry-provision',
            target: `vdc:${body.id}`,
            outcome: 'failure',
            details: { error: err instanceof Error ? err.message : String(err) },
            ...meta,
          });
        }
      }
      return vdcView(vdc);
    },

    /**
     * Re-runs the VDC's provisioning (an admin's retry after `failed`, or a resync): marks it `provisioning` and
     * requests a reconcile pass of its lifecycle workflow. Refused (409) while the VDC is being deleted.
     */
    async provisionVdc(caller: Caller, id: string, meta: RequestMeta): Promise<VdcView> {
      const vdc = await loadVdc(id);
      if (vdc.provisioning?.state === 'deleting') throw new ConflictError(`VDC ${id} is being deleted`);
      if (!(await store.vdcs.setProvisioning(id, { state: 'provisioning', at: new Date().toISOString() }, { unlessDeleting: true })))
        throw new ConflictError(`VDC ${id} is being deleted`);
      await requestLifecycle(caller, id, 'provision', meta);
      return vdcView(await loadVdc(id));
    },

    /**
     * Starts deleting a VDC: refused (409, nothing changed) while it has an application space made by a ticket
     * or a ticket that is not final; otherwise marks it `deleting` and asks its lifecycle workflow to delete its
     * default namespace on every pool, its registry projects and robot, then its bindings and its record
     * (audited `vdc.delete` by the worker). Returns the VDC as `deleting`; asking again while it is (e.g. after
     * a deletion that stopped on an unreachable pool) asks the workflow again.
     */
    async deleteVdc(caller: Caller, id: string, meta: RequestMeta): Promise<VdcView> {
      const vdc = await loadVdc(id);
      if (!deps.vdcLifecycle) throw new ConflictError(`VDC ${id} cannot be deleted: no VDC lifecycle workflow is configured`);
      const spaces = (vdc.spaces ?? []).map((s) => s.namespace);
      const open = await store.tickets.openIds(id);
      const reasons: string[] = [];
      if (spaces.length > 0)
        reasons.push(
          `it has ${plural(spaces.length, 'live application space')} (namespace ${spaces.join(', ')}); delete ${spaces.length === 1 ? 'it' : 'them'} first`,
        );
      if (open.length > 0)
        reasons.push(
          `it has ${open.length >= 20 ? 'at least ' : ''}${plural(open.length, 'open ticket')} (${open.slice(0, 5).join(', ')}${open.length > 5 ? ', …' : ''}); wait for ${open.length === 1 ? 'it' : 'them'} to finish or cancel ${open.length === 1 ? 'it' : 'them'}`,
        );
      if (reasons.length > 0) throw new ConflictError(`VDC ${id} cannot be deleted: ${reasons.join('; ')}`);
      if (!(await store.vdcs.setProvisioning(id, { state: 'deleting', at: new Date().toISOString() }))) throw new NotFoundError(`VDC ${id} not found`);
      await requestLifecycle(caller, id, 'delete', meta);
      return vdcView(await loadVdc(id));
    },

    /** Members who signed in, then invitations by email still pending (`pending: true`). */
    async listMembers(vdcId: string): Promise<MemberView[]> {
      const [users, pending] = await Promise.all([store.users.withScope({ type: 'vdc', vdcId }), store.pendingBindings.inScope({ type: 'vdc', vdcId })]);
      return [...users.map((u) => toMember(u, vdcId)), ...pendingMembers(pending)];
    },

    /**
     * `POST /vdcs/:id/members`: sets the roles on this VDC of a user named by username or email, like
     * {@link putMember}. An email nobody signed in with becomes a pending member: its roles are kept as
     * invitations (replacing earlier ones of that email on this VDC, audited `binding.invite`) and applied at
     * that email's first verified sign-in.
     */
    async addMember(
      caller: Caller,
      vdcId: string,
      ref: string,
      roles: readonly string[],
      meta: RequestMeta,
    ): Promise<{ member: MemberBindingView; created: boolean }> {
      const vdc = await loadVdc(vdcId);
      const defs = await vdcRoleDefs(roles);
      const who = await resolveUserRef(store, ref, 'user');
      if (who.kind === 'user')
        return {
          member: await setMemberRoles(caller, vdcId, who.user._id, roles, meta),
          created: !isMember(who.user, vdcId),
        };
      const target = { kind: 'vdc', vdcId, domainId: vdc.domainId } as const;
      const scope = { type: 'vdc' as const, vdcId };
      for (const role of new Set(roles))
        await access.assertCanInvite(caller, who.email, { binding: { role: role as RoleBinding['role'], scope }, def: defs.get(role)!, target }, meta);
      const before = await store.pendingBindings.inScope(scope);
      const had = before.filter((p) => p.email === who.email);
      await store.pendingBindings.removeInScope(who.email, scope);
      for (const role of new Set(roles)) await store.pendingBindings.add(who.email, { role: role as RoleBinding['role'], scope }, actorOf(caller));
      await audit.append({
        actor: actorOf(caller),
        action: 'binding.invite',
        target: `email:${who.email}`,
        outcome: 'success',
        details: { scope, roles: [...new Set(roles)], ...(had.length > 0 ? { replaced: had.map((p) => p.role) } : {}) },
        ...meta,
      });
      const invited = (await store.pendingBindings.inScope(scope)).filter((p) => p.email === who.email).map((p) => p.role);
      return { member: { vdcId, sub: '', roles: invited, pending: true, email: who.email }, created: had.length === 0 };
    },

    /** Withdraws the pending invitation of an email to this VDC (audited `binding.invite.revoke`); idempotent, so it tells nothing about emails. */
    async removePendingMember(caller: Caller, vdcId: string, email: string, meta: RequestMeta): Promise<void> {
      await loadVdc(vdcId);
      const n = await store.pendingBindings.removeInScope(email, { type: 'vdc', vdcId });
      if (n === 0) return;
      await audit.append({
        actor: actorOf(caller),
        action: 'binding.invite.revoke',
        target: `email:${email.toLowerCase()}`,
        outcome: 'success',
        details: { scope: { type: 'vdc', vdcId } },
        ...meta,
      });
    },

    /**
     * Replaces a member's roles on one VDC (`PUT /vdcs/:id/members/:sub`). Only a caller who sees every user may
     * name a non-member here; for anyone else an unknown sub and a non-member get the same 404. Answers the
     * binding's own data only.
     */
    async putMember(caller: Caller, vdcId: string, sub: string, roles: readonly string[], meta: RequestMeta): Promise<MemberBindingView> {
      await loadVdc(vdcId);
      if (!seesAllUsers(caller) && !isMember(await store.users.get(sub), vdcId)) throw notAMember(sub, vdcId);
      return setMemberRoles(caller, vdcId, sub, roles, meta);
    },

    /** Revokes every role of the user on this VDC; 404 when they have none (the same for an unknown sub). */
    async removeMember(caller: Caller, vdcId: string, sub: string, meta: RequestMeta): Promise<void> {
      if (!isMember(await store.users.get(sub), vdcId)) throw notAMember(sub, vdcId);
      await access.changeBindings(
        caller,
        sub,
        (current) => current.filter((b) => !onVdc(vdcId)(b)),
        async (_added, removed) => {
          await assertKeepsAnAdmin(vdcId, sub, removed);
          for (const b of removed) await access.assertCanRevoke(caller, sub, b, meta);
        },
        meta,
      );
    },
  };
  return service;
}
export type TenancyService = ReturnType<typeof tenancyService>;
