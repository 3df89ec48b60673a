import type { Connection } from 'mongoose';
import { apiTokenStore } from './api-tokens.ts';
import { configItemStore } from './config-items.ts';
import { connectStore } from './connection.ts';
import { domainStore } from './domains.ts';
import { imageScanStore } from './image-scans.ts';
import { ipListStore } from './ip-lists.ts';
import { ledgerStore } from './ledger.ts';
import { createModels } from './models.ts';
import { pendingBindingStore } from './pending-bindings.ts';
import { poolStore } from './pools.ts';
import { roleStore } from './roles.ts';
import { spaceStore } from './spaces.ts';
import { ticketStore } from './tickets.ts';
import { userStore } from './users.ts';
import { vdcStore } from './vdcs.ts';
import { workloadStore } from './workloads.ts';

/** The data-access layer shared by the API and the worker. */
export interface Store {
  conn: Connection;
  tickets: ReturnType<typeof ticketStore>;
  domains: ReturnType<typeof domainStore>;
  vdcs: ReturnType<typeof vdcStore>;
  users: ReturnType<typeof userStore>;
  ledger: ReturnType<typeof ledgerStore>;
  roles: ReturnType<typeof roleStore>;
  spaces: ReturnType<typeof spaceStore>;
  apiTokens: ReturnType<typeof apiTokenStore>;
  ipLists: ReturnType<typeof ipListStore>;
  pools: ReturnType<typeof poolStore>;
  workloads: ReturnType<typeof workloadStore>;
  imageScans: ReturnType<typeof imageScanStore>;
  configItems: ReturnType<typeof configItemStore>;
  /** Role bindings promised to emails whose owners have not signed in yet. */
  pendingBindings: ReturnType<typeof pendingBindingStore>;
  close(): Promise<void>;
}

export async function openStore(url: string): Promise<Store> {
  const conn = await connectStore(url);
  const models = createModels(conn);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const apiTokens = apiTokenStore(conn);
  const ipLists = ipListStore(conn);
  const pools = poolStore(conn);
  const workloads = workloadStore(conn);
  const imageScans = imageScanStore(conn);
  const configItems = configItemStore(conn);
  const pendingBindings = pendingBindingStore(conn);
  await Promise.all([apiTokens.init(), ipLists.init(), pools.init(), workloads.init(), imageScans.init(), configItems.init(), pendingBindings.init()]);
  return {
    conn,
    tickets: ticketStore(models),
    domains: domainStore(models),
    vdcs: vdcStore(models),
    users: userStore(models),
    ledger: ledgerStore(models),
    roles: roleStore(models),
    spaces: spaceStore(models),
    apiTokens,
    ipLists,
    pools,
    workloads,
    imageScans,
    configItems,
    pendingBindings,
    close: () => conn.close(),
  };
}
