import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ledgerLineProblem } from '../../common/billing.ts';
import type { Store } from '../../store/index.ts';
import { linesFromHistory, type History, type LedgerExtractors, type LedgerLine } from './history.ts';
import { IMAGE_STORAGE_EXTRACTORS } from './images.ts';
import { NODE_JOIN_EXTRACTORS } from './node-join.ts';
import { QUOTA_EXTRACTORS } from './quota.ts';
import { VOLUME_EXTRACTORS } from './volumes.ts';
import { WORKLOAD_EXTRACTORS } from './workloads.ts';

/**
 * Every billable fact, keyed by the activity whose completed event it derives from. A new metered activity
 * adds its extractor file here and one line below; the writers and `verify` pick it up.
 */
export const LEDGER_EXTRACTORS: LedgerExtractors = {
  ...QUOTA_EXTRACTORS,
  ...WORKLOAD_EXTRACTORS,
  ...VOLUME_EXTRACTORS,
  ...IMAGE_STORAGE_EXTRACTORS,
  ...NODE_JOIN_EXTRACTORS,
};

/**
 * Derives the billable lines of one workflow run from its history with {@link LEDGER_EXTRACTORS}. Pure and
 * deterministic: the same history always yields the same lines (used by the writer and by `verify`).
 */
export function ledgerLinesFromHistory(workflowId: string, history: History): LedgerLine[] {
  return linesFromHistory(workflowId, history, LEDGER_EXTRACTORS);
}

/** Non-retryable failure of a ledger writer: a line whose quantities are out of bounds (`ledgerLineProblem`) is not stored. */
export const LEDGER_LINE_REFUSED = 'LedgerLineRefused';

export interface LedgerActivityDeps {
  /** Reads the calling run's history: the ledger is derived from history, not from activity arguments. */
  temporal: Client;
  store: Store;
}

/**
 * The one ledger writer, registered under each name recorded workflow histories call it by (the names
 * and argument shapes must not change: histories replay against them). Each fetches the calling run's own
 * history, derives its lines and upserts them, idempotent on the provenance key, so a rebuild from history
 * yields the same lines. Transient Temporal or MongoDB errors are plain errors (retried); a line out of bounds is
 * refused (`LedgerLineRefused`, not retried) while the run's other lines are still written.
 */
export function createLedgerActivities(deps: LedgerActivityDeps) {
  async function write(workflowId: string): Promise<{ lineIds: string[] }> {
    const history = await deps.temporal.workflow.getHandle(workflowId).fetchHistory();
    const lines = ledgerLinesFromHistory(workflowId, history);
    const refused: string[] = [];
    for (const line of lines) {
      const problem = ledgerLineProblem(line);
      if (problem) refused.push(`${line._id}: ${problem}`);
      else await deps.store.ledger.upsert(line);
    }
    if (refused.length > 0) throw ApplicationFailure.nonRetryable(`ledger line refused (not stored): ${refused.join('; ')}`, LEDGER_LINE_REFUSED);
    return { lineIds: lines.map((l) => l._id) };
  }
  return {
    /** Quota change and lease, image-storage metering. */
    recordLedger: (args: { ticketId: string }) => write(args.ticketId),
    /** Node join. */
    recordNodeJoinLedger: (args: { ticketId: string }) => write(args.ticketId),
    /** Workload deploy / upgrade / rollback and day-2 operations. */
    recordWorkloadLedger: (args: { workflowId: string }) => write(args.workflowId),
    /** Standalone volumes. */
    recordVolumeLedger: (args: { workflowId: string }) => write(args.workflowId),
  };
}
export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
