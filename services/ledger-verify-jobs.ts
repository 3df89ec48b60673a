import type { Client } from '@temporalio/client';
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { LedgerLine } from '../common/billing.ts';
import type { LedgerVerification, LedgerVerificationStore } from '../store/ledger-verifications.ts';
import { verifyLedger } from './ledger-verify.ts';

/**
 * Scheduled ledger verify: a BullMQ job scheduler on queue `edgeport-ledger-verify` runs the same rebuild-
 * and-diff as `POST /api/ledger/verify` every interval inside the worker process, and stores each run's
 * counts and first differences (`GET /api/ledger/verifications`). Several worker processes share one
 * scheduler (same id), so a run happens once per interval, whichever process takes it.
 */
export const LEDGER_VERIFY_QUEUE = 'edgeport-ledger-verify';
export const LEDGER_VERIFY_SCHEDULER = 'ledger-verify';

/** Runs one verify and records it under the job's id (a retry overwrites its own record). */
export function ledgerVerifyProcessor(deps: {
  temporal: Client;
  storedLines: (ids: string[] | 'all') => Promise<LedgerLine[]>;
  runs: LedgerVerificationStore;
  onDone?: (summary: { id: string; ok: boolean; differenceCount: number; workflowsScanned: number }) => void;
}) {
  return async (job: Job): Promise<{ ok: boolean; differenceCount: number }> => {
    const startedAt = new Date().toISOString();
    const r = await verifyLedger({ temporal: deps.temporal, storedLines: deps.storedLines });
    const run: LedgerVerification = {
      id: String(job.id),
      startedAt,
      finishedAt: new Date().toISOString(),
      ok: r.ok,
      workflowsScanned: r.workflowsScanned,
      rebuiltLines: r.rebuiltLines,
      storedLines: r.storedLines,
      differenceCount: r.differences.length,
      differences: r.differences,
    };
    await deps.runs.record(run);
    deps.onDone?.({ id: run.id, ok: run.ok, differenceCount: run.differenceCount, workflowsScanned: run.workflowsScanned });
    return { ok: run.ok, differenceCount: run.differenceCount };
  };
}

/**
 * Registers (or updates) the scheduler to `everySeconds` and starts the queue's worker (concurrency 1).
 * `everySeconds` 0 removes the scheduler; the worker still runs jobs added by hand.
 */
export async function startLedgerVerifyWorker(
  deps: Parameters<typeof ledgerVerifyProcessor>[0] & { connection: ConnectionOptions; everySeconds: number },
): Promise<{ close(): Promise<void> }> {
  const queue = new Queue(LEDGER_VERIFY_QUEUE, { connection: deps.connection });
  if (deps.everySeconds > 0)
    await queue.upsertJobScheduler(
      LEDGER_VERIFY_SCHEDULER,
      { every: deps.everySeconds * 1000 },
      { name: 'verify', opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  else await queue.removeJobScheduler(LEDGER_VERIFY_SCHEDULER);
  const worker = new Worker(LEDGER_VERIFY_QUEUE, ledgerVerifyProcessor(deps), { connection: deps.connection, concurrency: 1 });
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
