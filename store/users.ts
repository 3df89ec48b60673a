import type { RoleBinding } from '../common/roles.ts';
import type { Models, UserDoc } from './models.ts';

/** `s` as a literal inside a regular expression. */
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function userStore(models: Models) {
  const { User } = models;
  return {
    get(sub: string): Promise<UserDoc | null> {
      return User.findById(sub).lean<UserDoc>();
    },
    async bindings(sub: string): Promise<RoleBinding[]> {
      const u = await User.findById(sub, { bindings: 1 }).lean<Pick<UserDoc, 'bindings'>>();
      return u?.bindings ?? [];
    },
    /** Records a login; creates the user without bindings on first sight (an admin grants roles). */
    async touchLogin(u: { sub: string; username: string; name: string; email: string; emailVerified?: boolean }): Promise<void> {
      await User.updateOne(
        { _id: u.sub },
        {
          $set: {
            username: u.username,
            name: u.name,
            email: u.email,
            lastLoginAt: new Date(),
            ...(u.emailVerified !== undefined ? { emailVerified: u.emailVerified } : {}),
          },
          $setOnInsert: { bindings: [] },
        },
        { upsert: true },
      );
    },
    /** The client-certificate subject bound to the user, or null. */
    async certSubject(sub: string): Promise<string | null> {
      const u = await User.findById(sub, { certSubject: 1 }).lean<Pick<UserDoc, 'certSubject'>>();
      return u?.certSubject ?? null;
    },
    /** Binds (or with null, unbinds) a certificate subject; false when the user is unknown. */
    async setCertSubject(sub: string, subject: string | null): Promise<boolean> {
      const update = subject === null ? { $unset: { certSubject: 1 } } : { $set: { certSubject: subject } };
      return (await User.updateOne({ _id: { $eq: sub } }, update)).matchedCount === 1;
    },
    async upsert(u: UserDoc): Promise<void> {
      await User.updateOne({ _id: u._id }, { $set: u }, { upsert: true });
    },
    /** The user who signed in with this username (case-insensitive), or null. */
    byUsername(username: string): Promise<UserDoc | null> {
      return User.findOne({ username: { $regex: `^${escapeRegex(username)}$`, $options: 'i' } }).lean<UserDoc>();
    },
    /** Users whose email equals `email` (case-insensitive) and was not reported unverified; oldest sign-in first. */
    byEmail(email: string): Promise<UserDoc[]> {
      return User.find({ email: { $regex: `^${escapeRegex(email)}$`, $options: 'i' }, emailVerified: { $ne: false } })
        .sort({ lastLoginAt: 1 })
        .limit(5)
        .lean<UserDoc[]>();
    },
    /** Users whose username, name or email contains `q` (case-insensitive, `q` taken literally); at most `limit`, by username. */
    search(q: string, limit: number): Promise<UserDoc[]> {
      const re = { $regex: escapeRegex(q), $options: 'i' };
      return User.find({ $or: [{ username: re }, { name: re }, { email: re }] }, { username: 1, name: 1, email: 1 })
        .sort({ username: 1 })
        .limit(limit)
        .lean<UserDoc[]>();
    },
    list(): Promise<UserDoc[]> {
      return User.find().sort({ username: 1 }).lean<UserDoc[]>();
    },
    /** Users holding at least one binding scoped to exactly this domain or VDC. */
    withScope(scope: { type: 'domain'; domainId: string } | { type: 'vdc'; vdcId: string }): Promise<UserDoc[]> {
      const match =
        scope.type === 'domain' ? { 'scope.type': 'domain', 'scope.domainId': scope.domainId } : { 'scope.type': 'vdc', 'scope.vdcId': scope.vdcId };
      return User.find({ bindings: { $elemMatch: match } })
        .sort({ username: 1 })
        .lean<UserDoc[]>();
    },
    /** How many users hold a binding of this role (any scope). */
    countBoundTo(role: RoleBinding['role']): Promise<number> {
      return User.countDocuments({ 'bindings.role': role });
    },
    /**
     * Compare-and-set of a user's bindings: writes `next` only if the stored bindings still equal
     * `expected` (as read), so two admins editing one user never lose each other's change. False when the
     * bindings moved (re-read and retry) or the user is gone.
     */
    async replaceBindings(sub: string, expected: RoleBinding[] | undefined, next: RoleBinding[]): Promise<boolean> {
      const filter = expected === undefined ? { _id: sub, bindings: { $exists: false } } : { _id: sub, bindings: { $eq: expected } };
      return (await User.updateOne(filter, { $set: { bindings: next } })).matchedCount === 1;
    },
  };
}
export type UserStore = ReturnType<typeof userStore>;
