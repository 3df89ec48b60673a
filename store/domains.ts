import type { DomainDoc, Models } from './models.ts';

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;

/**
 * Data access for domains; plain objects out. Deleting is two-phase (`beginDelete` → check → `remove` or
 * `cancelDelete`) so a VDC created concurrently with the delete can see the flag and back out.
 */
export function domainStore(models: Models) {
  const { Domain } = models;
  return {
    get(id: string): Promise<DomainDoc | null> {
      return Domain.findById(id).lean<DomainDoc>();
    },
    list(): Promise<DomainDoc[]> {
      return Domain.find().sort({ _id: 1 }).lean<DomainDoc[]>();
    },
    /** Creates a domain; false when the id is taken. */
    async create(d: { _id: string; name: string }): Promise<boolean> {
      try {
        await Domain.create({ _id: d._id, name: d.name });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },
    /** Creates or renames a domain (seed). */
    async upsert(d: { _id: string; name: string }): Promise<void> {
      await Domain.updateOne({ _id: d._id }, { $set: { name: d.name } }, { upsert: true });
    },
    /** Whether the domain exists and no delete of it is under way. */
    async isOpen(id: string): Promise<boolean> {
      return (await Domain.countDocuments({ _id: id, deleting: { $ne: true } })) === 1;
    },
    /** Flags the domain as being deleted; false when it does not exist or another delete holds the flag. */
    async beginDelete(id: string): Promise<boolean> {
      return (await Domain.updateOne({ _id: id, deleting: { $ne: true } }, { $set: { deleting: true } })).modifiedCount === 1;
    },
    async cancelDelete(id: string): Promise<void> {
      await Domain.updateOne({ _id: id }, { $unset: { deleting: 1 } });
    },
    async remove(id: string): Promise<boolean> {
      return (await Domain.deleteOne({ _id: id })).deletedCount === 1;
    },
  };
}
export type DomainStore = ReturnType<typeof domainStore>;
