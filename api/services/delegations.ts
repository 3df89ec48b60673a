import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../common/audit.ts';
import type { DelegationView, PutDelegation } from '../../common/delegations.ts';
import type { Actor, Role } from '../../common/roles.ts';
import type { DelegatedAuthority } from '../../common/ticket-workflow.ts';
import type { DelegationRecord, DelegationStore } from '../../store/delegations.ts';
import type { Store } from '../../store/index.ts';
import { approverRoles, resolveGrants, type CustomRoleDef, type Grant } from '../authz.ts';
import { InputError } from '../errors.ts';
import { actorOf } from './access.ts';
import type { Caller } from './caller.ts';

export interface DelegationServiceDeps {
  store: Pick<Store, 'users' | 'roles'>;
  delegations: DelegationStore;
  audit: AuditLog;
  now?: () => Date;
}

const view = (d: DelegationRecord, now: Date): DelegationView => ({
  id: d.id,
  delegator: { sub: d.delegator.sub, name: d.delegator.name },
  delegate: { sub: d.delegate.sub, name: d.delegate.name },
  from: d.from.toISOString(),
  until: d.until.toISOString(),
  ...(d.reason ? { reason: d.reason } : {}),
  createdAt: d.createdAt.toISOString(),
  active: d.from <= now && now < d.until,
});

/**
 * Approvers naming delegates for a period, and resolving at decision time whether a caller acts for one.
 * Every change is audited (`delegation.put`, `delegation.delete`). A delegate gets no permissions of the
 * approver: they only decide approval steps the approver could decide, recorded as on the approver's behalf.
 */
export function delegationService(deps: DelegationServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const { store, delegations, audit } = deps;

  /** `sub`'s grants from their current bindings (a revoked role no longer delegates). */
  async function grantsOf(sub: string): Promise<Grant[]> {
    const [bindings, custom] = await Promise.all([store.users.bindings(sub), store.roles.listCustom()]);
    const defs = new Map<string, CustomRoleDef>(custom.map((r) => [r._id, { id: r._id, baseRole: r.baseRole, permissions: r.permissions }]));
    return resolveGrants(bindings, defs);
  }

  /** Roles `sub` may approve as on the VDC. */
  async function rolesOf(sub: string, vdc: { vdcId: string; domainId: string }): Promise<Role[]> {
    return approverRoles(await grantsOf(sub), vdc);
  }

  return {
    async put(caller: Caller, body: PutDelegation, ip?: string): Promise<{ delegation: DelegationView; created: boolean }> {
      if (body.delegateSub === caller.sub) throw new InputError('you cannot delegate to yourself', [{ field: 'delegateSub', message: 'must be another user' }]);
      const delegate = await store.users.get(body.delegateSub);
      if (!delegate) throw new InputError(`no user ${body.delegateSub}`, [{ field: 'delegateSub', message: 'unknown user' }]);
      const at = now();
      const from = body.from ? new Date(body.from) : at;
      const until = new Date(body.until);
      if (until <= at) throw new InputError('the period has already ended', [{ field: 'until', message: 'must be in the future' }]);
      const { record, created } = await delegations.put({
        _id: randomUUID(),
        delegator: actorOf(caller),
        delegate: { sub: delegate._id, name: delegate.name },
        from,
        until,
        ...(body.reason ? { reason: body.reason } : {}),
        createdAt: at,
      });
      await audit.append({
        actor: actorOf(caller),
        action: 'delegation.put',
        target: `user:${delegate._id}`,
        outcome: 'success',
        details: { delegationId: record.id, from: from.toISOString(), until: until.toISOString() },
        ...(ip ? { ip } : {}),
      });
      return { delegation: view(record, at), created };
    },

    /** Delegations the caller gave or received. */
    async list(caller: Caller): Promise<DelegationView[]> {
      const at = now();
      return (await delegations.listFor(caller.sub)).map((d) => view(d, at));
    },

    /**
     * Ends one of the caller's own delegations. Idempotent: an id that is not (or no longer) theirs changes
     * nothing and answers the same, so it tells nothing about other users' delegations.
     */
    async remove(caller: Caller, id: string, ip?: string): Promise<void> {
      const removed = await delegations.remove(id, caller.sub);
      if (!removed) return;
      await audit.append({
        actor: actorOf(caller),
        action: 'delegation.delete',
        target: `user:${removed.delegate.sub}`,
        outcome: 'success',
        details: { delegationId: id },
        ...(ip ? { ip } : {}),
      });
    },

    /**
     * The approver `callerSub` may decide for on this VDC now: the first active delegation whose approver
     * holds one of `needed`, skipping `exclude` (the requester, people who already decided). Undefined when none.
     */
    /**
     * Approvers `callerSub` stands in for now (delegations in their period), with the approvers' current
     * grants: what the delegate's inbox lists on their behalf. The grants are never the delegate's own.
     */
    async delegatorsOf(callerSub: string): Promise<{ delegator: Actor; grants: Grant[] }[]> {
      const out: { delegator: Actor; grants: Grant[] }[] = [];
      for (const d of await delegations.activeFor(callerSub, now())) {
        out.push({ delegator: { sub: d.delegator.sub, name: d.delegator.name }, grants: await grantsOf(d.delegator.sub) });
      }
      return out;
    },

    async actingFor(
      callerSub: string,
      vdc: { vdcId: string; domainId: string },
      needed: readonly Role[],
      exclude: readonly string[],
    ): Promise<DelegatedAuthority | undefined> {
      for (const d of await delegations.activeFor(callerSub, now())) {
        if (exclude.includes(d.delegator.sub)) continue;
        const roles = await rolesOf(d.delegator.sub, vdc);
        if (roles.some((r) => needed.includes(r))) return { delegator: { sub: d.delegator.sub, name: d.delegator.name }, roles };
      }
      return undefined;
    },
  };
}
export type DelegationService = ReturnType<typeof delegationService>;
