import session, { type SessionData } from 'express-session';
import type { Redis } from 'ioredis';

/** Key prefix of every API session in Redis. */
export const SESSION_KEY_PREFIX = 'edgeport:sess:';

export interface RedisSessionStoreOptions {
  redis: Redis;
  /** Defaults to {@link SESSION_KEY_PREFIX}. */
  prefix?: string;
  /** TTL when a session carries no cookie expiry (never the case with the auth module's settings). */
  defaultTtlMs?: number;
}

/**
 * express-session store on ioredis (connect-redis only speaks node-redis). Each session is one JSON string
 * whose Redis TTL follows the cookie's expiry, so an idle session disappears server-side too, whatever the
 * browser does with its cookie. Errors are passed to express-session, which fails the request; ioredis
 * itself retries while reconnecting.
 */
export class RedisSessionStore extends session.Store {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly defaultTtlMs: number;

  constructor(opts: RedisSessionStoreOptions) {
    super();
    this.redis = opts.redis;
    this.prefix = opts.prefix ?? SESSION_KEY_PREFIX;
    this.defaultTtlMs = opts.defaultTtlMs ?? 24 * 60 * 60 * 1000;
  }

  key(sid: string): string {
    return this.prefix + sid;
  }

  private ttlMs(sess: SessionData): number {
    const { expires, maxAge } = sess.cookie ?? {};
    if (typeof maxAge === 'number') return Math.max(1, Math.ceil(maxAge));
    if (expires) return Math.max(1, new Date(expires).getTime() - Date.now());
    return this.defaultTtlMs;
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.redis.get(this.key(sid)).then(
      (raw) => {
        if (raw === null) return callback(null, null);
        let sess: SessionData;
        try {
          sess = JSON.parse(raw) as SessionData;
        } catch (err) {
          return callback(err);
        }
        callback(null, sess);
      },
      (err: unknown) => callback(err),
    );
  }

  override set(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    this.redis.set(this.key(sid), JSON.stringify(sess), 'PX', this.ttlMs(sess)).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.redis.del(this.key(sid)).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  /**
   * Extends the TTL of an unchanged session (rolling idle timeout). Only the TTL: rewriting the body here
   * could overwrite a change saved meanwhile by a concurrent request, and PEXPIRE never resurrects a
   * destroyed session.
   */
  override touch(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    this.redis.pexpire(this.key(sid), this.ttlMs(sess)).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }
}
