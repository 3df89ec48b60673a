import { isEmailRef } from '../../common/tenancy.ts';
import type { Store } from '../../store/index.ts';
import type { User } from '../../common/roles.ts';
import { PolicyDeniedError } from '../errors.ts';

/** Who a username or email names: a user who signed in, or (an email only) an invitation to be kept pending. */
export type ResolvedUser = { kind: 'user'; user: User } | { kind: 'pending'; email: string };

/**
 * Resolves a {@link UserRefSchema}-valid name. An email matches users who signed in with it (not reported
 * unverified by the provider); no match makes it a pending invitation. A username must be of a user who signed
 * in: otherwise 422 naming `field` (the answer is the same whatever the reason, and only callers allowed to
 * manage bindings reach this).
 */
export async function resolveUserRef(store: Store, ref: string, field: string): Promise<ResolvedUser> {
  if (isEmailRef(ref)) {
    const [user] = await store.users.byEmail(ref);
    return user ? { kind: 'user', user } : { kind: 'pending', email: ref.toLowerCase() };
  }
  const user = await store.users.byUsername(ref);
  if (user) return { kind: 'user', user };
  const message = 'no user has signed in with this username; name them by email to invite them';
  throw new PolicyDeniedError(`${field}: ${message}`, [{ field, message }]);
}
