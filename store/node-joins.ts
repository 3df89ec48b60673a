import type { Connection } from 'mongoose';
import type { SealedSecret } from './credentials.ts';

/**
 * Join tokens and joined edge nodes. A join token's value exists only sealed (see `store/credentials.ts`),
 * keyed by its ticket; it is opened once, by the requester fetching the join command, and the sealed copy
 * is dropped when the token is revoked. Joined nodes are recorded per pool and VDC.
 */
export interface JoinTokenDoc {
  /** The ticket id. */
  _id: string;
  tokenId: string;
  pool: string;
  vdcId: string;
  nodeName: string;
  expiresAt: Date;
  /** The sealed join command (holds the token); removed on revocation. */
  sealed?: SealedSecret;
  /**
   * Set while the token's bootstrap Secret is not yet created in the pool: the command is not handed out then
   * (it would be refused by the kube-apiserver). Records written before this field existed never carry it.
   */
  pendingIssue?: true;
  fetchedAt?: Date;
  fetchedBy?: string;
  /** Display name of {@link fetchedBy} at the time of the fetch. */
  fetchedByName?: string;
  revokedAt?: Date;
  createdAt: Date;
}

export interface JoinedNodeDoc {
  /** `<pool>/<nodeName>`. */
  _id: string;
  pool: string;
  nodeName: string;
  vdcId: string;
  domainId: string;
  ticketId: string;
  arch?: string;
  joinedAt: Date;
}

export const JOIN_TOKENS_COLLECTION = 'node_join_tokens';
export const JOINED_NODES_COLLECTION = 'joined_nodes';
/** Additional authenticated data of a sealed join command: binds the ciphertext to its ticket. */
export const joinCommandAad = (ticketId: string): string => `edgeport/node-join/${ticketId}`;

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number }).code === 11000;

export type JoinCommandFetch = { outcome: 'ok'; record: JoinTokenDoc & { sealed: SealedSecret } } | { outcome: 'none' | 'fetched' | 'revoked' | 'expired' };

/** Data access for join tokens and joined nodes (plain documents; idempotent writes). */
export function nodeJoinStore(conn: Connection) {
  const tokens = conn.collection<JoinTokenDoc>(JOIN_TOKENS_COLLECTION);
  const nodes = conn.collection<JoinedNodeDoc>(JOINED_NODES_COLLECTION);
  return {
    /** Stores the token record unless the ticket has one; returns the record in force (a retry reuses the first). */
    async insertToken(doc: JoinTokenDoc): Promise<JoinTokenDoc> {
      try {
        await tokens.insertOne(doc);
        return doc;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const existing = await tokens.findOne({ _id: doc._id });
        if (!existing) throw err;
        return existing;
      }
    },

    getToken(ticketId: string): Promise<JoinTokenDoc | null> {
      return tokens.findOne({ _id: ticketId });
    },

    /** The token's bootstrap Secret exists in the pool: its command may be handed out from now on. Idempotent. */
    async markIssued(ticketId: string): Promise<void> {
      await tokens.updateOne({ _id: ticketId, pendingIssue: true }, { $unset: { pendingIssue: '' } });
    },

    /** Marks the token revoked and drops its sealed copy; idempotent. */
    async revokeToken(ticketId: string): Promise<void> {
      await tokens.updateOne({ _id: ticketId, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date() }, $unset: { sealed: '' } });
    },

    /**
     * Claims the one fetch of the join command atomically: the first caller gets the sealed command, every
     * later one learns why not (already fetched, revoked, expired, or no token yet).
     */
    async claimFetch(ticketId: string, by: string | { sub: string; name?: string }, now = new Date()): Promise<JoinCommandFetch> {
      const who = typeof by === 'string' ? { sub: by } : by;
      // The record can change between the claim and the read that explains a failed claim (the worker marks the
      // token issued): a record that reads as claimable is claimed again instead of being reported as expired.
      for (let attempt = 0; ; attempt++) {
        const claimed = await tokens.findOneAndUpdate(
          {
            _id: ticketId,
            fetchedAt: { $exists: false },
            revokedAt: { $exists: false },
            sealed: { $exists: true },
            pendingIssue: { $exists: false },
            expiresAt: { $gt: now },
          },
          { $set: { fetchedAt: now, fetchedBy: who.sub, ...(who.name ? { fetchedByName: who.name } : {}) } },
          { returnDocument: 'before' },
        );
        if (claimed?.sealed) return { outcome: 'ok', record: claimed as JoinTokenDoc & { sealed: SealedSecret } };
        const doc = await tokens.findOne({ _id: ticketId });
        if (!doc || (doc.pendingIssue && !doc.revokedAt)) return { outcome: 'none' };
        if (doc.revokedAt) return { outcome: 'revoked' };
        if (doc.fetchedAt) return { outcome: 'fetched' };
        if (doc.sealed && doc.expiresAt > now && attempt < 3) continue;
        return { outcome: doc.expiresAt > now ? 'none' : 'expired' };
      }
    },

    /** Records a joined node (or overwrites the same ticket's record). */
    async recordNode(doc: JoinedNodeDoc): Promise<void> {
      await nodes.updateOne({ _id: doc._id }, { $set: doc }, { upsert: true });
    },

    /** Removes a joined node's record; with `ticketId`, only the record that ticket made. */
    async removeNode(pool: string, nodeName: string, ticketId?: string): Promise<void> {
      await nodes.deleteOne({ _id: `${pool}/${nodeName}`, ...(ticketId ? { ticketId } : {}) });
    },

    getNode(pool: string, nodeName: string): Promise<JoinedNodeDoc | null> {
      return nodes.findOne({ _id: `${pool}/${nodeName}` });
    },

    listNodes(filter: { pool?: string; vdcId?: string }): Promise<JoinedNodeDoc[]> {
      return nodes
        .find({ ...(filter.pool ? { pool: filter.pool } : {}), ...(filter.vdcId ? { vdcId: filter.vdcId } : {}) })
        .sort({ _id: 1 })
        .toArray();
    },
  };
}
export type NodeJoinStore = ReturnType<typeof nodeJoinStore>;
