import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ImageStorageMeteringInput, ImageStorageMeteringResult } from '../common/image-storage-metering.ts';

/** Registry reads; retried until the registry answers (a run never bills part of an interval twice: one run per interval). */
const { imageStorageVdcs, measureVdcImageStorage, recordLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', nonRetryableErrorTypes: ['RegistryNotConfigured'] },
});

/**
 * Image-storage metering of one interval (started per interval by the worker's scheduled job, workflow id
 * `imageStorageMeteringId(start)`): lists the VDCs owning private or staging repositories, measures each
 * one as its own activity (the completed event is the billable fact and the provenance of the VDC's
 * `image.storage` line), then writes the run's ledger lines derived from its own history, as ticket
 * workflows do, so `verify` rebuilds exactly these lines. Histories stay small: 2 events per VDC.
 */
export async function imageStorageMeteringWorkflow(input: ImageStorageMeteringInput): Promise<ImageStorageMeteringResult> {
  const vdcIds = await imageStorageVdcs();
  for (const vdcId of vdcIds) await measureVdcImageStorage({ vdcId, start: input.start, end: input.end });
  const { lineIds } = await recordLedger({ ticketId: workflowInfo().workflowId });
  return { measured: vdcIds.length, lineIds };
}
