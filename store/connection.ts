import mongoose, { type Connection } from 'mongoose';

/** Opens a dedicated mongoose connection (no global singleton, so tests can hold several). */
export async function connectStore(url: string): Promise<Connection> {
  const conn = mongoose.createConnection(url, { serverSelectionTimeoutMS: 10_000, autoIndex: true });
  await conn.asPromise();
  return conn;
}
