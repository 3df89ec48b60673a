import { Schema, type Connection, type Model } from 'mongoose';
import type { ImageScanView } from '../common/image-scan.ts';

/** Stored image scans: one document per image digest (the latest scan; copies of an image share it). */
interface ImageScanDoc extends Omit<ImageScanView, 'digest' | 'scannedAt'> {
  _id: string;
  scannedAt: Date;
}

function model(conn: Connection): Model<ImageScanDoc> {
  const existing = conn.models.ImageScan as Model<ImageScanDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<ImageScanDoc>(
    {
      _id: String,
      repository: { type: String, index: true },
      scannedAt: Date,
      scanner: String,
      feed: { type: { name: String, version: String }, _id: false },
      packages: { type: Schema.Types.Mixed },
      platforms: { type: [{ architecture: String, digest: String }], _id: false },
      findings: { type: Schema.Types.Mixed },
      counts: { type: Schema.Types.Mixed },
      severity: String,
      unreadLayers: Number,
    },
    { versionKey: false, collection: 'image_scans', minimize: false },
  );
  return conn.model<ImageScanDoc>('ImageScan', schema);
}

const view = (d: ImageScanDoc): ImageScanView => ({
  digest: d._id,
  repository: d.repository,
  scannedAt: new Date(d.scannedAt).toISOString(),
  scanner: d.scanner,
  feed: { name: d.feed.name, version: d.feed.version },
  packages: d.packages ?? {},
  platforms: (d.platforms ?? []).map((p) => ({ architecture: p.architecture, digest: p.digest })),
  findings: d.findings ?? [],
  counts: d.counts ?? {},
  severity: d.severity,
  unreadLayers: d.unreadLayers ?? 0,
});

export function imageScanStore(conn: Connection) {
  const Scans = model(conn);
  return {
    init: async (): Promise<void> => void (await Scans.init()),
    /** Stores a scan as the latest of its digest (an older scan never replaces a newer one). */
    async save(scan: ImageScanView): Promise<void> {
      const { digest, scannedAt, ...rest } = scan;
      const at = new Date(scannedAt);
      await Scans.updateOne(
        { _id: digest, $or: [{ scannedAt: { $lte: at } }, { scannedAt: { $exists: false } }] },
        { $set: { ...rest, scannedAt: at } },
        { upsert: true },
      ).catch((err: { code?: number }) => {
        // Duplicate key: a newer scan of this digest is stored already.
        if (err.code !== 11000) throw err;
      });
    },
    /** The latest scan of an image digest, or null when it was never scanned. */
    async latest(digest: string): Promise<ImageScanView | null> {
      const d = await Scans.findById(digest).lean<ImageScanDoc>();
      return d ? view(d) : null;
    },
    /** Latest scans of many digests (for listings), by digest. */
    async latestMany(digests: readonly string[]): Promise<Map<string, ImageScanView>> {
      const docs = await Scans.find({ _id: { $in: [...digests] } }).lean<ImageScanDoc[]>();
      return new Map(docs.map((d) => [d._id, view(d)]));
    },
  };
}
export type ImageScanStore = ReturnType<typeof imageScanStore>;
