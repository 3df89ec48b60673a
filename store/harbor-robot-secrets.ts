import { Schema, type Connection, type Model } from 'mongoose';
import type { SealedSecret } from './credentials.ts';

/**
 * The current secret of each Harbor robot Edgeport rotated, sealed (see `store/credentials.ts`): the only place
 * a robot secret is kept. `_id` is `<harbor host>/<robot id>`.
 */
interface RobotSecretDoc {
  _id: string;
  name: string;
  project: string;
  secret: SealedSecret;
  expiresAt: number;
  rotatedAt: Date;
  /** Id of the pull-credential rotation request that issued this secret (a retried rotation refreshes once). */
  rotationId?: string;
}

export const HARBOR_ROBOT_SECRETS_COLLECTION = 'harbor_robot_secrets';
/** Additional authenticated data of a robot's sealed secret: binds the ciphertext to the robot. */
export const harborRobotSecretAad = (id: string): string => `edgeport/harbor-robot/${id}`;

function model(conn: Connection): Model<RobotSecretDoc> {
  const existing = conn.models.HarborRobotSecret as Model<RobotSecretDoc> | undefined;
  if (existing) return existing;
  const schema = new Schema<RobotSecretDoc>(
    {
      _id: String,
      name: String,
      project: String,
      secret: { type: Schema.Types.Mixed, required: true },
      expiresAt: Number,
      rotatedAt: Date,
      rotationId: String,
    },
    { versionKey: false, collection: HARBOR_ROBOT_SECRETS_COLLECTION },
  );
  return conn.model<RobotSecretDoc>('HarborRobotSecret', schema);
}

export function harborRobotSecretStore(conn: Connection) {
  const R = model(conn);
  return {
    /** Stores (or replaces) a robot's sealed secret; idempotent per robot. */
    async put(doc: RobotSecretDoc): Promise<void> {
      await R.replaceOne({ _id: doc._id }, doc, { upsert: true });
    },
    async get(id: string): Promise<RobotSecretDoc | null> {
      return R.findById(id).lean<RobotSecretDoc>();
    },
    /** The newest sealed secret of a robot of `project` on the Harbor at `host` (the VDC's pull robot), or null. */
    async ofProject(host: string, project: string): Promise<RobotSecretDoc | null> {
      const prefix = `^${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`;
      return R.findOne({ project, _id: { $regex: prefix } })
        .sort({ rotatedAt: -1 })
        .lean<RobotSecretDoc>();
    },
    /** Forgets the sealed secrets of every robot of one project on one Harbor (the project was deleted); idempotent. */
    async removeProject(host: string, project: string): Promise<number> {
      const prefix = `^${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`;
      return (await R.deleteMany({ project, _id: { $regex: prefix } })).deletedCount;
    },
  };
}

export type HarborRobotSecretStore = ReturnType<typeof harborRobotSecretStore>;
