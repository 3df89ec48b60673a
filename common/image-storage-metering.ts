/**
 * Contract of the image-storage metering process (issue 5 "image storage per VDC is metered", issue 6
 * ledger with provenance): one workflow run per metering interval measures each VDC's private image bytes
 * as one activity per VDC, and the `image.storage` ledger lines are derived from those activities'
 * completed events (ledger/ledger-images.ts), so `verify` rebuilds them from history like every other line.
 */

/** Temporal workflow type. */
export const IMAGE_STORAGE_METERING_WORKFLOW = 'imageStorageMeteringWorkflow';

/** The activity whose completion is one VDC's billable `image.storage` fact for the interval. */
export const IMAGE_STORAGE_SAMPLE_ACTIVITY = 'measureVdcImageStorage';

/**
 * Workflow id of the run metering the interval starting at `start`: one run per interval whoever starts it
 * (a retried job, a second worker), started with REJECT_DUPLICATE so a finished interval is never metered twice.
 */
export const imageStorageMeteringId = (start: Date): string => `image-storage-metering-${start.toISOString()}`;

export interface ImageStorageMeteringInput {
  /** The interval billed: [start, end). */
  start: string;
  end: string;
}

export interface ImageStorageMeteringResult {
  /** VDCs measured (VDCs owning private or staging repositories). */
  measured: number;
  lineIds: string[];
}

/** Result of `measureVdcImageStorage`: what the VDC held when measured, billed over the interval. */
export interface ImageStorageSample {
  vdcId: string;
  domainId: string;
  pool: string;
  /** Bytes of the VDC's `vdc-`/`staging-` blobs, each blob counted once. */
  bytes: number;
  /** `bytes` in GiB, 6 decimals (what the line bills). */
  imageStorageGi: number;
  start: string;
  end: string;
}
