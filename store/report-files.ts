import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { mongo, type Connection } from 'mongoose';

export const REPORT_FILES_BUCKET = 'report_files';

export interface StoredReportFile {
  fileId: string;
  bytes: number;
}

/**
 * Finished report files in GridFS (bucket `report_files`) on the platform database: every api and worker
 * process reaches it, so a file written by whichever worker ran the job is downloadable from any api
 * instance, with no shared disk.
 */
export function reportFileStore(conn: Connection) {
  const bucket = (): mongo.GridFSBucket => new mongo.GridFSBucket(conn.db!, { bucketName: REPORT_FILES_BUCKET });
  return {
    /**
     * Writes one file, fed by `produce` through `write` (awaited: backpressure). On failure the partial
     * file is deleted and the error rethrown.
     */
    async write(
      name: string,
      metadata: Record<string, string>,
      produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>,
    ): Promise<StoredReportFile> {
      const upload = bucket().openUploadStream(name, { metadata });
      let bytes = 0;
      const write = async (chunk: string | Buffer): Promise<void> => {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        if (!upload.write(chunk)) await once(upload, 'drain');
      };
      try {
        await produce(write);
        upload.end();
        await once(upload, 'finish');
      } catch (err) {
        await upload.abort().catch(() => undefined);
        throw err;
      }
      return { fileId: upload.id.toString(), bytes };
    },

    /** The file's bytes as a stream; null when there is no such file. */
    async open(fileId: string): Promise<Readable | null> {
      if (!mongo.ObjectId.isValid(fileId)) return null;
      const id = new mongo.ObjectId(fileId);
      const found = await bucket().find({ _id: id }).limit(1).toArray();
      return found.length > 0 ? bucket().openDownloadStream(id) : null;
    },

    /**
     * Deletes every file uploaded before `cutoff` (the report-file sweep); returns how many went. A file
     * deleted meanwhile by another sweep is skipped.
     */
    async removeOlderThan(cutoff: Date): Promise<number> {
      let deleted = 0;
      for await (const f of bucket().find({ uploadDate: { $lt: cutoff } }, { projection: { _id: 1 } })) {
        try {
          await bucket().delete(f._id);
          deleted++;
        } catch (err) {
          if (!(err instanceof Error && /File not found/i.test(err.message))) throw err;
        }
      }
      return deleted;
    },

    async remove(fileId: string): Promise<void> {
      if (mongo.ObjectId.isValid(fileId))
        await bucket()
          .delete(new mongo.ObjectId(fileId))
          .catch(() => undefined);
    },
  };
}
export type ReportFileStore = ReturnType<typeof reportFileStore>;
