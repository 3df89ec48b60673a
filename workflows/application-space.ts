import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { PULL_CREDENTIAL_FAILURES, PULL_SECRET_PATCHES } from '../common/pull-credentials.ts';
import { SPACE_ERRORS, type ApplicationSpaceInput, type ApplicationSpaceResult } from '../common/space-workflow.ts';
import type { Quota, SpacePreview } from '../common/tickets.ts';
import { failureMessage, ticketApproval, type TicketApproval } from './approval.ts';

const NON_RETRYABLE = ['KubernetesRefused', ...Object.values(SPACE_ERRORS), ...Object.values(PULL_CREDENTIAL_FAILURES)];

const { preflightSpaceCreate, preflightSpaceDelete } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Forward steps: a persistent transient fault ends in compensation after a few minutes, not never. */
const { applySpaceNamespace, applySpaceQuota, applySpaceLimits, applySpaceRbac, applyVdcPullSecret, recordSpace, markSpaceDeleting } =
  proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
  });

/** Deletion and compensation: retried until they succeed (a half-undone space is worse than a slow one). */
const { deleteSpaceNamespace, unrecordSpace } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['KubernetesRefused'] },
});

/**
 * One application space ticket (create or delete). Preflight (name free / namespace empty) → approval chain
 * (`approval.ts`) → steps, each an idempotent activity.
 * - create: Namespace with labels → ResourceQuota (the VDC's quota) → LimitRange → RoleBindings → the VDC's
 *   image pull Secret referenced by the `default` ServiceAccount (patch `space-pull-secret`) → record on the VDC. A failure after the first step compensates in reverse (remove the record, delete the
 *   namespace, which takes everything in it along) and the ticket ends `compensated`.
 * - delete: mark the record `deleting` → delete the namespace and wait until it is gone → remove the record.
 *   Deletion cannot be undone; a failure ends the ticket `failed` with the record left `deleting`.
 * A preflight refusal ends the ticket `failed` before anything is written.
 */
export async function applicationSpaceWorkflow(input: ApplicationSpaceInput): Promise<ApplicationSpaceResult> {
  const approval = ticketApproval<SpacePreview>(input);
  const args = { vdc: input.vdc, space: { name: input.space.name, namespace: input.space.namespace } };
  let preview: SpacePreview;
  try {
    preview = input.action === 'create' ? await preflightSpaceCreate({ ...args, labels: input.space.labels }) : await preflightSpaceDelete(args);
  } catch (err) {
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) return closed;

  approval.state.status = 'executing';
  await approval.project();
  return input.action === 'create' ? createSpace(input, approval) : deleteSpace(input, approval);
}

interface Compensation {
  label: string;
  run: () => Promise<unknown>;
}

async function createSpace(input: ApplicationSpaceInput, approval: TicketApproval<SpacePreview>): Promise<ApplicationSpaceResult> {
  const args = { vdc: input.vdc, space: { name: input.space.name, namespace: input.space.namespace } };
  const steps: string[] = [];
  const compensations: Compensation[] = [];
  let quota: Quota | undefined;
  let step = 'namespace';
  try {
    // Registered before the step: a namespace created just before a failure is still removed (only if this ticket made it).
    compensations.unshift({ label: 'delete namespace', run: () => deleteSpaceNamespace({ ...args, createdBy: input.ticketId }) });
    await applySpaceNamespace({ ...args, ticketId: input.ticketId, labels: input.space.labels });
    steps.push(step);
    step = 'resource-quota';
    quota = (await applySpaceQuota(args)).quota;
    steps.push(step);
    step = 'limit-range';
    await applySpaceLimits(args);
    steps.push(step);
    step = 'rbac';
    await applySpaceRbac(args);
    steps.push(step);
    if (patched(PULL_SECRET_PATCHES.spaceCreate)) {
      step = 'pull-secret';
      await applyVdcPullSecret({ vdcId: input.vdc.id, namespace: input.space.namespace });
      steps.push(step);
    }
    step = 'record';
    compensations.unshift({ label: 'remove record', run: () => unrecordSpace({ ...args, createdBy: input.ticketId }) });
    await recordSpace({ ...args, ticketId: input.ticketId });
    steps.push(step);
  } catch (err) {
    const reason = `step ${step} failed: ${failureMessage(err)}`;
    for (const c of compensations) {
      try {
        await c.run();
        steps.push(`compensated: ${c.label}`);
      } catch (cerr) {
        return { ...(await approval.finish('failed', `${reason}; compensation "${c.label}" failed: ${failureMessage(cerr)}`)), steps };
      }
    }
    return { ...(await approval.finish('compensated', reason)), steps };
  }
  return { ...(await approval.finish('completed')), ...(quota ? { quota } : {}), steps };
}

async function deleteSpace(input: ApplicationSpaceInput, approval: TicketApproval<SpacePreview>): Promise<ApplicationSpaceResult> {
  const args = { vdc: input.vdc, space: { name: input.space.name, namespace: input.space.namespace } };
  const steps: string[] = [];
  try {
    await markSpaceDeleting(args);
    steps.push('mark-deleting');
    const { outcome } = await deleteSpaceNamespace(args);
    if (outcome === 'not-owned')
      return { ...(await approval.finish('failed', `namespace ${args.space.namespace} is no longer this space's; nothing deleted`)), steps };
    steps.push(`namespace ${outcome}`);
    await unrecordSpace(args);
    steps.push('record removed');
  } catch (err) {
    return { ...(await approval.finish('failed', failureMessage(err))), steps };
  }
  return { ...(await approval.finish('completed')), steps };
}
