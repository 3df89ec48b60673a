import { Client, Connection } from '@temporalio/client';
import type { ConnectionOptions } from 'bullmq';
import { startLedgerVerifyWorker } from '../services/ledger-verify-jobs.ts';
import { openStore } from '../store/index.ts';

/** Starts the scheduled ledger verify of this worker process on its own store and Temporal connections. */
export async function startLedgerVerifyJobs(opts: {
  mongoUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  connection: ConnectionOptions;
  everySeconds: number;
  log: (msg: string, extra: Record<string, unknown>) => void;
}): Promise<{ close(): Promise<void> }> {
  const store = await openStore(opts.mongoUrl);
  const runs = store.ledgerVerifications;
  const connection = await Connection.connect({ address: opts.temporalAddress });
  const temporal = new Client({ connection, namespace: opts.temporalNamespace });
  const jobs = await startLedgerVerifyWorker({
    temporal,
    storedLines: (ids) => store.ledger.list(ids),
    runs,
    connection: opts.connection,
    everySeconds: opts.everySeconds,
    onDone: (result) =>
      opts.log(result.ok ? 'ledger verify: no difference' : 'ledger verify: DIFFERENCES between the ledger and the workflow histories', result),
  });
  return {
    async close() {
      await jobs.close();
      await connection.close();
      await store.close();
    },
  };
}
