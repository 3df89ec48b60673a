import { Schema, type Connection, type Model } from 'mongoose';
import type { VolumeRecord } from '../common/volumes.ts';

/** A standalone volume: id `<namespace>/<name>` (a namespace belongs to exactly one VDC). */
interface VolumeDoc extends VolumeRecord {
  _id: string;
}

export const VOLUMES_COLLECTION = 'volumes';
const idOf = (namespace: string, name: string): string => `${namespace}/${name}`;

function model(conn: Connection): Model<VolumeDoc> {
  const existing = conn.models.StandaloneVolume as Model<VolumeDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<VolumeDoc>(
    {
      _id: String,
      vdcId: { type: String, required: true, index: true },
      namespace: { type: String, required: true },
      name: { type: String, required: true },
      size: { type: String, required: true },
      accessMode: { type: String, required: true },
      storageClass: String,
      createdAt: { type: String, required: true },
      createdBy: { type: Schema.Types.Mixed, required: true },
    },
    { versionKey: false, collection: VOLUMES_COLLECTION },
  );
  // One name per VDC (the seed's rule), whatever the namespace.
  schema.index({ vdcId: 1, name: 1 }, { unique: true });
  return conn.model<VolumeDoc>('StandaloneVolume', schema);
}

const plain = ({ _id, ...rest }: VolumeDoc): VolumeRecord => {
  void _id;
  return rest;
};

/** Data access for standalone volumes (made with the volume API); plain objects out. */
export function volumeStore(conn: Connection) {
  const Volume = model(conn);
  return {
    init: async (): Promise<void> => void (await Volume.init()),

    async list(vdcId: string): Promise<VolumeRecord[]> {
      return (await Volume.find({ vdcId }).sort({ _id: 1 }).lean<VolumeDoc[]>()).map(plain);
    },

    async get(namespace: string, name: string): Promise<VolumeRecord | null> {
      const doc = await Volume.findById(idOf(namespace, name)).lean<VolumeDoc>();
      return doc ? plain(doc) : null;
    },

    /** Records a new volume; false when the VDC already has one of that name. */
    async insert(v: VolumeRecord): Promise<boolean> {
      try {
        await Volume.create({ _id: idOf(v.namespace, v.name), ...v });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 11000) return false;
        throw err;
      }
    },

    /** Sets the recorded size if it is still `from`; false when it changed meanwhile. */
    async setSize(namespace: string, name: string, from: string, to: string): Promise<boolean> {
      return (await Volume.updateOne({ _id: idOf(namespace, name), size: from }, { $set: { size: to } })).matchedCount === 1;
    },

    async remove(namespace: string, name: string): Promise<void> {
      await Volume.deleteOne({ _id: idOf(namespace, name) });
    },
  };
}
export type VolumeStore = ReturnType<typeof volumeStore>;
