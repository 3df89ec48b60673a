import type { Permission } from '../common/permissions.ts';
import type { Role } from '../common/roles.ts';
import type { CustomRoleDoc, Models } from './models.ts';

export function roleStore(models: Models) {
  const { CustomRole } = models;
  return {
    listCustom(): Promise<CustomRoleDoc[]> {
      return CustomRole.find().sort({ _id: 1 }).lean<CustomRoleDoc[]>();
    },
    get(id: string): Promise<CustomRoleDoc | null> {
      return CustomRole.findById(id).lean<CustomRoleDoc>();
    },
    /** Creates a custom role; false when the id is taken. */
    async create(role: { _id: `custom:${string}`; name: string; baseRole: Role; permissions: Permission[]; createdBy: string }): Promise<boolean> {
      try {
        await CustomRole.create(role);
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    },
    async update(id: `custom:${string}`, patch: { name?: string; baseRole?: Role; permissions?: Permission[] }): Promise<boolean> {
      return (await CustomRole.updateOne({ _id: id }, { $set: patch })).matchedCount === 1;
    },
    async remove(id: `custom:${string}`): Promise<boolean> {
      return (await CustomRole.deleteOne({ _id: id })).deletedCount === 1;
    },
  };
}
export type RoleStore = ReturnType<typeof roleStore>;
