import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ImagePublishPreview } from '../common/image-publish.ts';
import type { ImagePublishInput, ImagePublishResult } from '../common/image-publish-workflow.ts';
import { failureMessage, ticketApproval } from './approval.ts';

/** Business refusals of image activities (must match `IMAGE_ERRORS` in activities/image-publish.ts). */
const NON_RETRYABLE = ['RegistryNotConfigured', 'ImageNotFound', 'RegistryRefused', 'ImageVerifyFailed'];

/** Preflight reads (and may scan) the image: layers are read from the registry, so it gets a few minutes. */
const { preflightImagePublish } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { promoteImage } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * One image publish ticket: preflight (the staging image's digest is pinned, its scan result becomes part of the
 * preview; missing image, missing scan or High/Critical findings without an operations admin's override fail the
 * ticket with the findings listed) → approval chain (`approval.ts`) → promote: copy by the pinned digest to the
 * VDC's private repository or to public, tag last, verified. Promotion is one idempotent activity that sets the
 * tag only after every blob and manifest is in place, so there is nothing to compensate: a failure leaves no tag.
 */
export async function imagePublishWorkflow(input: ImagePublishInput): Promise<ImagePublishResult> {
  const approval = ticketApproval<ImagePublishPreview>(input);
  let preview: ImagePublishPreview;
  try {
    preview = await preflightImagePublish({ source: input.source, target: input.target, ...(input.scanOverride ? { scanOverride: input.scanOverride } : {}) });
  } catch (err) {
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  if (preview.errors.length > 0 || preview.source.digest === null) {
    approval.state.preview = preview;
    return approval.finish('failed', `preflight: ${preview.errors.join('; ')}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) return closed;

  approval.state.status = 'executing';
  await approval.project();
  const steps: string[] = [];
  try {
    const promoted = await promoteImage({
      source: { repository: input.source.repository, digest: preview.source.digest },
      target: { repository: input.target.repository, tag: input.target.tag },
    });
    steps.push(`promoted ${promoted.digest} to ${input.target.repository}:${input.target.tag}`);
    return { ...(await approval.finish('completed')), digest: promoted.digest, steps };
  } catch (err) {
    return { ...(await approval.finish('failed', `promote: ${failureMessage(err)}`)), steps };
  }
}
