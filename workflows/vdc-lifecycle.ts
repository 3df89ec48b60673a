import { condition, continueAsNew, defineSignal, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { POOL_FAILURES } from '../common/pool-workflows.ts';
import { PULL_CREDENTIAL_FAILURES, PULL_SECRET_PATCHES } from '../common/pull-credentials.ts';
import {
  VDC_LIFECYCLE_FAILURES,
  VDC_LIFECYCLE_SIGNAL,
  type VdcLifecycleInput,
  type VdcLifecycleRequest,
  type VdcLifecycleResult,
  type VdcPoolOutcome,
} from '../common/vdc-lifecycle.ts';
import { failureMessage } from './approval.ts';

export const vdcLifecycleRequest = defineSignal<[VdcLifecycleRequest]>(VDC_LIFECYCLE_SIGNAL);

const NON_RETRYABLE = [
  ...Object.values(VDC_LIFECYCLE_FAILURES),
  ...Object.values(PULL_CREDENTIAL_FAILURES),
  POOL_FAILURES.notFound,
  POOL_FAILURES.credentialsUnreadable,
  'VdcNotFound',
];

const { vdcLifecyclePlan, recordVdcState, recordVdcDeleteFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Writes to a pool: bounded, so a pool that stays unreachable ends the pass `failed` naming the pool after about
 * three minutes instead of never (each attempt's requests time out after 30 s).
 */
const { ensureVdcNamespace, syncVdcSpaceBindings, ensureVdcPullCredential, applyVdcPullSecret } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '3m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Deletion steps: waiting for a namespace to empty can take minutes; a pool gone for good still ends it. */
const { deleteVdcNamespace, deleteVdcRegistry, removeVdcPullCredential, removeVdcRecord } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  scheduleToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Passes per run before continuing as new (keeps the history small for a VDC whose members change a lot). */
const MAX_PASSES_PER_RUN = 50;

/**
 * The lifecycle of one VDC (id `vdcLifecycleId(vdcId)`), driven by requests sent with signal-with-start:
 * - `provision` / `members` → a reconcile pass: on every pool of the VDC, its default namespace with labels and
 *   owner annotation, ResourceQuota (the record's quota there), LimitRange and the members' RoleBindings; then the
 *   members' RoleBindings in every ticket-made application space. Every pool is attempted; the VDC ends `ready`,
 *   or `failed` with a reason naming each pool that failed and why (an admin retries with `provision`).
 *   Each pass also makes the VDC's image pull credential exist (`rotate-pull-credential`: replaces it first) and
 *   writes the `edgeport-pull` Secret, referenced by the `default` ServiceAccount, into each of those namespaces
 *   (patch `vdc-pull-secrets`: histories recorded before it replay without these steps).
 * - `delete` → the VDC's default namespace on every pool is deleted (waiting until gone), its Harbor projects and
 *   robot, its pull credential, then its role bindings and its record. A failure leaves it `deleting` with the reason.
 * Requests that arrive while a pass runs are queued and handled after it (several reconcile requests make one
 * pass), so none is lost; a delete request wins over queued reconcile requests. The run ends when nothing is
 * queued: the next request starts a new run with the same id.
 */
export async function vdcLifecycleWorkflow(input: VdcLifecycleInput): Promise<VdcLifecycleResult> {
  const pending: VdcLifecycleRequest[] = [...input.pending];
  setHandler(vdcLifecycleRequest, (req) => void pending.push(req));
  const result: VdcLifecycleResult = { vdcId: input.vdcId, passes: [] };
  // A new run's first request arrives as the signal sent with its start.
  if (pending.length === 0) await condition(() => pending.length > 0, '1m');

  while (pending.length > 0) {
    if (result.passes.length >= MAX_PASSES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof vdcLifecycleWorkflow>({ vdcId: input.vdcId, pending: pending.splice(0) });
    }
    const batch = pending.splice(0);
    const del = batch.find((r) => r.action === 'delete');
    if (del) {
      const pass = await deleteVdc(input.vdcId, del);
      result.passes.push(pass);
      if (pass.state === 'deleted') return result;
    } else {
      const rotationId = batch.find((r) => r.action === 'rotate-pull-credential' && r.rotationId)?.rotationId;
      result.passes.push(
        await reconcile(
          input.vdcId,
          batch.some((r) => r.action === 'provision'),
          rotationId,
        ),
      );
    }
    // A request arriving together with this pass's last command is handled before the run ends.
    await condition(() => pending.length > 0, '1s');
  }
  return result;
}

async function reconcile(vdcId: string, provision: boolean, rotationId?: string): Promise<VdcLifecycleResult['passes'][number]> {
  const plan = await vdcLifecyclePlan({ vdcId });
  if (!plan.exists || plan.state === 'deleting') return { action: 'skipped', ...(plan.state ? { state: plan.state } : {}), namespaces: [] };
  // Pull credentials (issue 17); the secret itself is made and read inside the activities, never seen here.
  let pullSecrets = patched(PULL_SECRET_PATCHES.vdcLifecycle);
  let pullCredential: VdcLifecycleResult['passes'][number]['pullCredential'];
  let credentialError: string | undefined;
  if (pullSecrets) {
    try {
      pullCredential = await ensureVdcPullCredential({ vdcId, ...(rotationId ? { rotationId } : {}) });
    } catch (err) {
      credentialError = `pull credential: ${failureMessage(err)}`;
      pullSecrets = false;
    }
  }
  const pullSecretOf = async (namespace: string, pool?: string): Promise<Pick<VdcPoolOutcome, 'pullSecret'>> =>
    pullSecrets ? { pullSecret: (await applyVdcPullSecret({ vdcId, namespace, ...(pool ? { pool } : {}) })).outcome } : {};
  const namespaces: VdcPoolOutcome[] = await Promise.all([
    ...plan.placements.map(async (p): Promise<VdcPoolOutcome> => {
      try {
        await ensureVdcNamespace({ vdcId, pool: p.pool, namespace: p.namespace });
        return { pool: p.pool, namespace: p.namespace, outcome: 'ok', ...(await pullSecretOf(p.namespace, p.pool)) };
      } catch (err) {
        return { pool: p.pool, namespace: p.namespace, outcome: 'failed', error: failureMessage(err) };
      }
    }),
    ...plan.spaces.map(async (s): Promise<VdcPoolOutcome> => {
      try {
        const { outcome } = await syncVdcSpaceBindings({ vdcId, space: s.name, namespace: s.namespace });
        if (outcome === 'absent') return { pool: s.pool, namespace: s.namespace, outcome: 'absent' };
        return { pool: s.pool, namespace: s.namespace, outcome: 'ok', ...(outcome === 'ok' ? await pullSecretOf(s.namespace, s.pool) : {}) };
      } catch (err) {
        return { pool: s.pool, namespace: s.namespace, outcome: 'failed', error: failureMessage(err) };
      }
    }),
  ]);
  const failed = namespaces.filter((n) => n.outcome === 'failed');
  const reason = [...(credentialError ? [credentialError] : []), ...failed.map((n) => `pool ${n.pool} (namespace ${n.namespace}): ${n.error}`)].join('; ');
  // A member change on a VDC that never finished provisioning does not make it `ready` by itself unless it worked.
  const state = failed.length === 0 && !credentialError ? 'ready' : 'failed';
  if (provision || plan.state !== state || failed.length > 0 || credentialError) await recordVdcState({ vdcId, state, ...(reason ? { reason } : {}) });
  return { action: 'reconcile', state, ...(reason ? { reason } : {}), namespaces, ...(pullCredential ? { pullCredential } : {}) };
}

async function deleteVdc(vdcId: string, req: VdcLifecycleRequest): Promise<VdcLifecycleResult['passes'][number]> {
  const plan = await vdcLifecyclePlan({ vdcId });
  if (!plan.exists) {
    // Only leftover bindings can remain (a run that removed the record was cut short before returning).
    await removeVdcRecord({ vdcId, ...(req.actor ? { actor: req.actor } : {}) });
    return { action: 'delete', state: 'deleted', namespaces: [] };
  }
  if (plan.state !== 'deleting') return { action: 'skipped', ...(plan.state ? { state: plan.state } : {}), namespaces: [] };
  const namespaces: VdcPoolOutcome[] = [];
  try {
    for (const p of plan.placements) {
      const { outcome } = await deleteVdcNamespace({ vdcId, pool: p.pool, namespace: p.namespace });
      namespaces.push({
        pool: p.pool,
        namespace: p.namespace,
        outcome: outcome === 'absent' ? 'absent' : 'ok',
        ...(outcome === 'not-owned' ? { error: "not this VDC's namespace; left alone" } : {}),
      });
    }
    await deleteVdcRegistry({ vdcId });
    if (patched(PULL_SECRET_PATCHES.vdcDelete)) await removeVdcPullCredential({ vdcId });
    await removeVdcRecord({ vdcId, ...(req.actor ? { actor: req.actor } : {}) });
  } catch (err) {
    const reason = `deletion stopped: ${failureMessage(err)}`;
    await recordVdcDeleteFailure({ vdcId, reason, ...(req.actor ? { actor: req.actor } : {}) });
    return { action: 'delete', state: 'deleting', reason, namespaces };
  }
  return { action: 'delete', state: 'deleted', namespaces };
}
