import type { AnyObject, Collection, Connection, mongo } from 'mongoose';
import { apiTokenStore, type ApiTokenStore } from './api-tokens.ts';
import { createAuditLog, type AuditStore } from './audit.ts';
import { configItemStore, type ConfigItemStore } from './config-items.ts';
import { connectStore, type StoreConnectOptions } from './connection.ts';
import { delegationStore, type DelegationStore } from './delegations.ts';
import { domainStore, type DomainStore } from './domains.ts';
import { harborRegistryStore, type HarborRegistryStore } from './harbor-registries.ts';
import { harborRobotSecretStore, type HarborRobotSecretStore } from './harbor-robot-secrets.ts';
import { imageCategoryStore, type ImageCategoryStore } from './image-categories.ts';
import { imageScanStore, type ImageScanStore } from './image-scans.ts';
import { ipListStore, type IpListStore } from './ip-lists.ts';
import { ledgerVerificationStore, type LedgerVerificationStore } from './ledger-verifications.ts';
import { ledgerStore, type LedgerStore } from './ledger.ts';
import { createModels } from './models.ts';
import { networkStore, type NetworkStore } from './network.ts';
import { nodeJoinStore, type NodeJoinStore } from './node-joins.ts';
import { pendingBindingStore, type PendingBindingStore } from './pending-bindings.ts';
import { poolStore, type PoolStore } from './pools.ts';
import { priceBookStore, type PriceBookStore } from './pricebook.ts';
import { pullCredentialStore, type PullCredentialStore } from './pull-credentials.ts';
import { reportFileStore, type ReportFileStore } from './report-files.ts';
import { roleStore, type RoleStore } from './roles.ts';
import { spaceStore, type SpaceStore } from './spaces.ts';
import { ticketStore, type TicketStore } from './tickets.ts';
import { userStore, type UserStore } from './users.ts';
import { vdcStore, type VdcStore } from './vdcs.ts';
import { volumeStore, type VolumeStore } from './volumes.ts';
import { workloadOperationStore, type WorkloadOperationStore } from './workload-operations.ts';
import { workloadStore, type WorkloadStore } from './workloads.ts';

/**
 * Raw database access for tests, benchmarks and the fuzzer only: reading or seeding a collection behind a
 * repository's back, dropping a throw-away database. Production code goes through the repositories.
 */
export interface StoreTesting {
  /** The raw driver collection `name` (no schema, no validation). */
  collection<T extends AnyObject = AnyObject>(name: string): Collection<T>;
  /** The raw driver database (e.g. GridFS collections, listing collections). */
  readonly db: mongo.Db;
  /** Drops the whole database this store is connected to. */
  dropDatabase(): Promise<void>;
}

/**
 * The data-access layer shared by the API and the worker: every repository, each built once over one
 * connection. The connection itself stays inside `store/` (lint forbids `.conn` and the repository
 * factories elsewhere), so documents never leave this layer and nobody builds a second repository.
 */
export interface Store {
  tickets: TicketStore;
  domains: DomainStore;
  vdcs: VdcStore;
  users: UserStore;
  ledger: LedgerStore;
  roles: RoleStore;
  spaces: SpaceStore;
  apiTokens: ApiTokenStore;
  ipLists: IpListStore;
  pools: PoolStore;
  workloads: WorkloadStore;
  imageScans: ImageScanStore;
  configItems: ConfigItemStore;
  /** Role bindings promised to emails whose owners have not signed in yet. */
  pendingBindings: PendingBindingStore;
  /** The append-only, hash-chained platform audit log. */
  audit: AuditStore;
  delegations: DelegationStore;
  harborRegistries: HarborRegistryStore;
  harborRobotSecrets: HarborRobotSecretStore;
  imageCategories: ImageCategoryStore;
  ledgerVerifications: LedgerVerificationStore;
  /** Security groups and space network defaults. */
  network: NetworkStore;
  nodeJoins: NodeJoinStore;
  /** The versioned price book. */
  priceBooks: PriceBookStore;
  pullCredentials: PullCredentialStore;
  /** Report files (GridFS). */
  reportFiles: ReportFileStore;
  volumes: VolumeStore;
  workloadOperations: WorkloadOperationStore;
  /** Test-only raw access (tests, bench, fuzz); never used by the API or the worker. */
  testing: StoreTesting;
  /** One round trip to the server (readiness probes). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function storeTesting(conn: Connection): StoreTesting {
  return {
    collection: <T extends AnyObject = AnyObject>(name: string) => conn.collection<T>(name),
    get db() {
      return conn.db!;
    },
    dropDatabase: () => conn.dropDatabase(),
  };
}

/** Connects, builds every repository once and waits for their indexes. */
export async function openStore(url: string, o: StoreConnectOptions = {}): Promise<Store> {
  const conn = await connectStore(url, o);
  const models = createModels(conn);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const repos = {
    apiTokens: apiTokenStore(conn),
    ipLists: ipListStore(conn),
    pools: poolStore(conn),
    workloads: workloadStore(conn),
    imageScans: imageScanStore(conn),
    configItems: configItemStore(conn),
    pendingBindings: pendingBindingStore(conn),
    delegations: delegationStore(conn),
    harborRegistries: harborRegistryStore(conn),
    harborRobotSecrets: harborRobotSecretStore(conn),
    imageCategories: imageCategoryStore(conn),
    ledgerVerifications: ledgerVerificationStore(conn),
    network: networkStore(conn),
    nodeJoins: nodeJoinStore(conn),
    priceBooks: priceBookStore(conn),
    pullCredentials: pullCredentialStore(conn),
    volumes: volumeStore(conn),
    workloadOperations: workloadOperationStore(conn),
  };
  await Promise.all(Object.values(repos).map((r) => ('init' in r ? r.init() : undefined)));
  return {
    tickets: ticketStore(models),
    domains: domainStore(models),
    vdcs: vdcStore(models),
    users: userStore(models),
    ledger: ledgerStore(models),
    roles: roleStore(models),
    spaces: spaceStore(models),
    ...repos,
    audit: createAuditLog(conn),
    reportFiles: reportFileStore(conn),
    testing: storeTesting(conn),
    ping: async () => {
      await conn.db!.command({ ping: 1 });
    },
    close: () => conn.close(),
  };
}

/** Only the audit log, for the audit CLI (verify, export), which needs no other repository nor their indexes. */
export async function openAuditLog(url: string): Promise<{ audit: AuditStore; close(): Promise<void> }> {
  const conn = await connectStore(url);
  return { audit: createAuditLog(conn), close: () => conn.close() };
}

/**
 * Test and benchmark only: the raw database at `url` without any repository, model or index (e.g. to bulk
 * insert before the indexes exist, or to drop a throw-away database).
 */
export async function openTestingDatabase(url: string): Promise<StoreTesting & { close(): Promise<void> }> {
  const conn = await connectStore(url);
  return Object.assign(storeTesting(conn), { close: () => conn.close() });
}
