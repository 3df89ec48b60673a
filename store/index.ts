import type { Connection } from 'mongoose';
import { connectStore } from './connection.ts';
import { ledgerStore } from './ledger.ts';
import { createModels } from './models.ts';
import { roleStore } from './roles.ts';
import { ticketStore } from './tickets.ts';
import { userStore } from './users.ts';
import { vdcStore } from './vdcs.ts';

/** The data-access layer shared by the API and the worker. */
export interface Store {
  conn: Connection;
  tickets: ReturnType<typeof ticketStore>;
  vdcs: ReturnType<typeof vdcStore>;
  users: ReturnType<typeof userStore>;
  ledger: ReturnType<typeof ledgerStore>;
  roles: ReturnType<typeof roleStore>;
  close(): Promise<void>;
}

export async function openStore(url: string): Promise<Store> {
  const conn = await connectStore(url);
  const models = createModels(conn);
  await Promise.all(Object.values(models).map((m) => m.init()));
  return {
    conn,
    tickets: ticketStore(models),
    vdcs: vdcStore(models),
    users: userStore(models),
    ledger: ledgerStore(models),
    roles: roleStore(models),
    close: () => conn.close(),
  };
}
