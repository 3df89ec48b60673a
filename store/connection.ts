import mongoose, { type Connection } from 'mongoose';

/**
 * How a process meets an unreachable MongoDB. The API fails fast (`failFast`): no command is buffered while
 * disconnected (a buffered command would run when the server returns, after its client gave up) and server
 * selection gives up after `selectTimeoutMs`; background processes wait longer.
 */
export interface StoreConnectOptions {
  failFast?: { selectTimeoutMs: number; socketTimeoutMs: number };
}

/** Opens a dedicated mongoose connection (no global singleton, so tests can hold several). */
export async function connectStore(url: string, o: StoreConnectOptions = {}): Promise<Connection> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: o.failFast?.selectTimeoutMs ?? 10_000,
    autoIndex: true,
    ...(o.failFast ? { bufferCommands: false, socketTimeoutMS: o.failFast.socketTimeoutMs } : {}),
  });
  await conn.asPromise();
  return conn;
}
