import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ImageOperation, ImageOperationResult } from '../common/image-ops-workflow.ts';

const { scanImage, deleteImageTag, deleteImageRepository } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['RegistryNotConfigured', 'ImageNotFound', 'RegistryRefused'],
  },
});

/**
 * One registry operation the API asks for outside tickets (the API never writes to the registry itself):
 * an on-demand scan (stored, latest per digest), or deleting a tag or a repository. Authorization is the API's.
 */
export async function imageOperationWorkflow(op: ImageOperation): Promise<ImageOperationResult> {
  if (op.op === 'scan') return { op: 'scan', scan: await scanImage({ repository: op.repository, reference: op.reference }) };
  if (op.op === 'delete-tag') await deleteImageTag({ repository: op.repository, tag: op.tag });
  else await deleteImageRepository({ repository: op.repository });
  return { op: op.op };
}
