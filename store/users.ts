import type { RoleBinding } from '../common/roles.ts';
import type { Models, UserDoc } from './models.ts';

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
    async touchLogin(u: { sub: string; username: string; name: string; email: string }): Promise<void> {
      await User.updateOne(
        { _id: u.sub },
        { $set: { username: u.username, name: u.name, email: u.email, lastLoginAt: new Date() }, $setOnInsert: { bindings: [] } },
        { upsert: true },
      );
    },
    async upsert(u: UserDoc): Promise<void> {
      await User.updateOne({ _id: u._id }, { $set: u }, { upsert: true });
    },
  };
}
export type UserStore = ReturnType<typeof userStore>;
