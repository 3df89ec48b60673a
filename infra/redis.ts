import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ connection options of a Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS),
 * the same database and TLS the API's ioredis client takes from that URL: a worker listening on another
 * database than the API enqueues into would never see a job.
 */
export function redisConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`EDGEPORT_REDIS_URL: database "${db}" is not a number`);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
