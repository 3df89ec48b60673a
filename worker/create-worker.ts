import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { failpoints } from '../infra/failpoints.ts';
import { createPoolClients } from '../infra/kube/pool-clients.ts';
import { createRegistryRuntime, type RegistryRuntimeConfig } from '../infra/registry/runtime.ts';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';
import { credentialCipher } from '../store/credentials.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Path of the workflow bundle entry; a worker without a prebuilt bundle bundles it with webpack (sandboxed,
 * deterministic). Only named, not resolved: a production image runs `dist/worker.mjs` (one level down, like
 * `worker/`) with a prebuilt bundle and has no workflow sources.
 */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface TicketWorker {
  worker: Worker;
  store: Store;
  /** Stops polling, waits for running activities, closes connections. */
  shutdown(): Promise<void>;
}

export interface TicketWorkerOptions {
  temporalAddress: string;
  temporalNamespace: string;
  mongoUrl: string;
  taskQueue?: string;
  failpoints?: string[];
  /**
   * Key(s) opening stored pool credentials (secret): every tenant-facing Kubernetes call goes to the VDC's pool
   * with that pool's credentials; without the key those activities fail non-retryably.
   */
  credentials?: { key: string; previousKeys: string[] };
  /** The local OCI registry (its token key is a secret) and the scanner's advisory feed; absent → image activities fail non-retryably. */
  registry?: RegistryRuntimeConfig;
  /** Overrides for tests (e.g. a time-skipping environment's connection). */
  connection?: NativeConnection;
  client?: Client;
  worker?: Partial<WorkerOptions>;
}

/** Builds the ticket worker with its activities over real clients (Kubernetes, MongoDB, Temporal). */
export async function createTicketWorker(opts: TicketWorkerOptions): Promise<TicketWorker> {
  const store = await openStore(opts.mongoUrl);
  const ownConnection = opts.connection ? undefined : await NativeConnection.connect({ address: opts.temporalAddress });
  const connection = opts.connection ?? (ownConnection as NativeConnection);
  const clientConnection = opts.client ? undefined : await Connection.connect({ address: opts.temporalAddress });
  const client = opts.client ?? new Client({ connection: clientConnection as Connection, namespace: opts.temporalNamespace });
  const credentials = opts.credentials ? credentialCipher(opts.credentials.key, opts.credentials.previousKeys) : undefined;
  const activities = createActivities({
    pools: createPoolClients({ store, credentials }),
    store,
    temporal: client,
    crashPoint: failpoints(opts.failpoints ?? []),
    credentials,
    ...(opts.registry ? { registry: createRegistryRuntime(opts.registry) } : {}),
  });
  const worker = await Worker.create({
    connection,
    namespace: opts.temporalNamespace,
    taskQueue: opts.taskQueue ?? TICKETS_TASK_QUEUE,
    // A prebuilt bundle (tests running several workers) replaces bundling the workflows again per worker.
    ...(opts.worker?.workflowBundle ? {} : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    ...opts.worker,
  });
  return {
    worker,
    store,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await store.close();
      await clientConnection?.close();
      await ownConnection?.close();
    },
  };
}
