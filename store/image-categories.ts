import { Schema, type Connection, type Model } from 'mongoose';

/** A browsing category of image repositories: platform-wide (`vdcId: null`, operations admins) or one VDC's (its admins). */
export interface ImageCategoryView {
  id: string;
  name: string;
  vdcId: string | null;
  repositories: string[];
  createdAt: string;
  updatedAt: string;
}

interface CategoryDoc {
  _id: string;
  name: string;
  vdcId: string | null;
  repositories: string[];
  createdAt: Date;
  updatedAt: Date;
}

function model(conn: Connection): Model<CategoryDoc> {
  const existing = conn.models.ImageCategory as Model<CategoryDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<CategoryDoc>(
    { _id: String, name: String, vdcId: { type: String, default: null }, repositories: { type: [String], index: true } },
    { versionKey: false, timestamps: true, collection: 'image_categories' },
  );
  schema.index({ vdcId: 1, name: 1 }, { unique: true });
  return conn.model<CategoryDoc>('ImageCategory', schema);
}

const view = (d: CategoryDoc): ImageCategoryView => ({
  id: d._id,
  name: d.name,
  vdcId: d.vdcId ?? null,
  repositories: [...(d.repositories ?? [])].sort(),
  createdAt: new Date(d.createdAt).toISOString(),
  updatedAt: new Date(d.updatedAt).toISOString(),
});

/** Thrown when a category of the same name exists in the same scope. */
export class DuplicateCategoryError extends Error {
  override name = 'DuplicateCategoryError';
}

const dup = (err: unknown): never => {
  if ((err as { code?: number }).code === 11000) throw new DuplicateCategoryError('a category of that name exists');
  throw err;
};

export function imageCategoryStore(conn: Connection) {
  const C = model(conn);
  return {
    init: async (): Promise<void> => void (await C.init()),
    /** Platform categories and those of the given VDCs (`all`: every category). */
    async list(vdcIds: readonly string[] | 'all'): Promise<ImageCategoryView[]> {
      const filter = vdcIds === 'all' ? {} : { $or: [{ vdcId: null }, { vdcId: { $in: [...vdcIds] } }] };
      return (await C.find(filter).sort({ name: 1, _id: 1 }).lean<CategoryDoc[]>()).map(view);
    },
    async get(id: string): Promise<ImageCategoryView | null> {
      const d = await C.findById(id).lean<CategoryDoc>();
      return d ? view(d) : null;
    },
    async create(c: { id: string; name: string; vdcId: string | null }): Promise<ImageCategoryView> {
      const d = await C.create({ _id: c.id, name: c.name, vdcId: c.vdcId, repositories: [] }).catch(dup);
      return view(d.toObject());
    },
    async rename(id: string, name: string): Promise<ImageCategoryView | null> {
      const d = await C.findByIdAndUpdate(id, { $set: { name } }, { new: true }).lean<CategoryDoc>().catch(dup);
      return d ? view(d) : null;
    },
    async remove(id: string): Promise<boolean> {
      return (await C.deleteOne({ _id: id })).deletedCount > 0;
    },
    /** Makes `repository` a member of exactly `ids` among `within` (the categories the caller may change). */
    async setRepositoryCategories(repository: string, ids: readonly string[], within: readonly string[]): Promise<void> {
      const drop = within.filter((id) => !ids.includes(id));
      if (drop.length > 0) await C.updateMany({ _id: { $in: drop } }, { $pull: { repositories: repository } });
      if (ids.length > 0) await C.updateMany({ _id: { $in: [...ids] } }, { $addToSet: { repositories: repository } });
    },
    /** Categories a repository is in. */
    async ofRepository(repository: string): Promise<ImageCategoryView[]> {
      return (await C.find({ repositories: repository }).lean<CategoryDoc[]>()).map(view);
    },
  };
}
export type ImageCategoryStore = ReturnType<typeof imageCategoryStore>;
