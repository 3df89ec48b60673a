import type { AuditLog } from '../../common/audit.ts';
import { ROLES, type Actor, type RoleBinding, type User } from '../../common/roles.ts';
import { isEmailRef, USER_SEARCH_LIMIT, type UserSummary } from '../../common/tenancy.ts';
import { vdcsTouchedBy, type VdcLifecycle } from './vdc-lifecycle.ts';
import type { Store } from '../../store/index.ts';
import { allows, scopeKey } from '../authz.ts';
import type { Caller } from './caller.ts';
import { ConflictError } from '../errors.ts';
import { canonicalBinding } from './access.ts';
import { resolveUserRef } from './user-ref.ts';

/** The audit actor of what the platform does by itself (bootstrap grants, invitations applied at sign-in). */
export const SYSTEM_ACTOR: Actor = { sub: 'system', name: 'Edgeport' };

/** The built-in binding `EDGEPORT_BOOTSTRAP_ADMINS` and `tsx api/cli.ts admin grant` confer. */
export const OPS_ADMIN_BINDING: RoleBinding = { role: ROLES.opsAdmin, scope: { type: 'platform' } };

export const toUserSummary = (u: User): UserSummary => ({ sub: u._id, username: u.username, name: u.name, email: u.email });

/**
 * Whether the caller may see every user (`GET /api/users`: role:write on the platform). Only such a caller gets
 * the user search by fragment with names and emails, and may name a non-member by sub in `PUT /vdcs/:id/members/:sub`;
 * a VDC's members manager can only confirm a whole username or email it already knows (see README "Members").
 */
export const seesAllUsers = (caller: Caller): boolean => allows(caller.grants, 'role:write', { kind: 'platform' });

export interface UserDirectoryDeps {
  store: Store;
  audit: AuditLog;
  /** `EDGEPORT_BOOTSTRAP_ADMINS`, lower-cased usernames and emails. */
  bootstrapAdmins?: readonly string[];
  /** Brings the RoleBindings of a VDC's namespaces in step after an invitation became a binding. */
  vdcLifecycle?: VdcLifecycle;
}

/** The signed-in user as the identity provider described them at this sign-in. */
export interface SignInIdentity {
  sub: string;
  username: string;
  name: string;
  email: string;
  /** `email_verified` of the provider; only a verified email matches bootstrap entries and invitations. */
  emailVerified?: boolean;
}

/**
 * Users by name: search, the bootstrap administrators and invitations applied at sign-in, and grants made by
 * the platform itself. Grants here bypass the no-escalation rule on purpose (there is no caller to check
 * against): they are what configuration, an operator's CLI or an earlier, checked invitation decided.
 */
export function userDirectory(deps: UserDirectoryDeps) {
  const { store, audit } = deps;
  const bootstrap = new Set((deps.bootstrapAdmins ?? []).map((s) => s.toLowerCase()));

  /**
   * Adds bindings the user lacks (compare-and-set, retried when another writer moved the bindings); the ones
   * actually added, each audited as `action` by `actor`.
   */
  async function addBindings(
    sub: string,
    wanted: readonly RoleBinding[],
    actor: Actor,
    action: string,
    details: (b: RoleBinding) => Record<string, unknown>,
    ip?: string,
  ): Promise<RoleBinding[]> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const user = await store.users.get(sub);
      if (!user) return [];
      const current = user.bindings ?? [];
      const have = new Set(current.map((b) => `${b.role}@${scopeKey(b.scope)}`));
      const added: RoleBinding[] = [];
      for (const b of wanted.map(canonicalBinding)) {
        const k = `${b.role}@${scopeKey(b.scope)}`;
        if (!have.has(k)) {
          have.add(k);
          added.push(b);
        }
      }
      if (added.length === 0) return [];
      if (!(await store.users.replaceBindings(sub, user.bindings, [...current, ...added]))) continue;
      for (const b of added)
        await audit.append({
          actor,
          action,
          target: `user:${sub}`,
          outcome: 'success',
          details: { role: b.role, scope: b.scope, ...details(b) },
          ...(ip ? { ip } : {}),
        });
      return added;
    }
    throw new ConflictError(`the bindings of ${sub} kept changing concurrently; retry`);
  }

  return {
    /** Users who signed in whose username, name or email contains `q` (case-insensitive), at most {@link USER_SEARCH_LIMIT}. */
    async search(q: string): Promise<UserSummary[]> {
      return (await store.users.search(q, USER_SEARCH_LIMIT)).map(toUserSummary);
    },

    /**
     * The user whose whole username or (verified) email is `q`, case-insensitive, as username and sub only: what a
     * members manager without the platform-wide view may learn (no listing by fragment, no names or emails).
     */
    async lookup(q: string): Promise<UserSummary[]> {
      const user = isEmailRef(q) ? (await store.users.byEmail(q))[0] : await store.users.byUsername(q);
      return user ? [{ sub: user._id, username: user.username }] : [];
    },

    /**
     * Runs at every sign-in, after the user record is written: grants ops-admin to a bootstrap administrator
     * who lacks it (`bootstrap-admin.grant`, actor system) and applies the bindings invited to the user's
     * verified email (`binding.grant` with `source: invite`), deleting those invitations. A rejection fails the
     * sign-in (nothing is granted unaudited).
     */
    async onSignIn(u: SignInIdentity, ip?: string): Promise<void> {
      const email = u.emailVerified && u.email ? u.email.toLowerCase() : '';
      const matched = bootstrap.has(u.username.toLowerCase()) ? 'username' : email && bootstrap.has(email) ? 'email' : null;
      if (matched)
        await addBindings(u.sub, [OPS_ADMIN_BINDING], SYSTEM_ACTOR, 'bootstrap-admin.grant', () => ({ matched, source: 'EDGEPORT_BOOTSTRAP_ADMINS' }), ip);
      if (!email) return;
      const invites = await store.pendingBindings.forEmail(email);
      if (invites.length === 0) return;
      const by = new Map(invites.map((p) => [`${p.role}@${p.scopeKey}`, p]));
      const added = await addBindings(
        u.sub,
        invites,
        SYSTEM_ACTOR,
        'binding.grant',
        (b) => ({ source: 'invite', email, invitedBy: by.get(`${b.role}@${scopeKey(b.scope)}`)?.invitedBy ?? null }),
        ip,
      );
      await store.pendingBindings.remove(invites.map((p) => p.id));
      // The member's namespaces follow (a failure is audited; POST /api/vdcs/:id/provision re-runs the sync).
      if (deps.vdcLifecycle) {
        for (const vdcId of await vdcsTouchedBy(added, store.vdcs)) {
          await deps.vdcLifecycle.request(vdcId, 'members').catch((err: unknown) =>
            audit.append({
              actor: SYSTEM_ACTOR,
              action: 'vdc.members-sync',
              target: `vdc:${vdcId}`,
              outcome: 'failure',
              details: { error: err instanceof Error ? err.message : String(err) },
              ...(ip ? { ip } : {}),
            }),
          );
        }
      }
    },

    /**
     * `tsx api/cli.ts admin grant --user <username|email>`: ops-admin for a user who signed in, or a pending
     * ops-admin invitation for an email nobody signed in with yet. Audited as `bootstrap-admin.grant` /
     * `binding.invite` by `actor`.
     */
    async grantOpsAdmin(ref: string, actor: Actor): Promise<{ outcome: 'granted' | 'already' | 'pending'; sub?: string; email?: string }> {
      const r = await resolveUserRef(store, ref, 'user');
      if (r.kind === 'user') {
        const added = await addBindings(r.user._id, [OPS_ADMIN_BINDING], actor, 'bootstrap-admin.grant', () => ({ source: 'cli' }));
        return { outcome: added.length > 0 ? 'granted' : 'already', sub: r.user._id };
      }
      if (await store.pendingBindings.add(r.email, OPS_ADMIN_BINDING, actor)) {
        await audit.append({
          actor,
          action: 'binding.invite',
          target: `email:${r.email}`,
          outcome: 'success',
          details: { role: OPS_ADMIN_BINDING.role, scope: OPS_ADMIN_BINDING.scope, source: 'cli' },
        });
      }
      return { outcome: 'pending', email: r.email };
    },
  };
}
export type UserDirectory = ReturnType<typeof userDirectory>;
