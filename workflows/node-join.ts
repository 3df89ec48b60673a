import { patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { NODE_JOIN_ERRORS, type IssuedJoinToken, type NodeJoinInput, type NodeJoinResult, type NodeJoinReview } from '../common/node-join-workflow.ts';
import { POOL_FAILURES } from '../common/pool-workflows.ts';
import type { NodeJoinPreview } from '../common/tickets.ts';
import { failureMessage, ticketApproval, type TicketApproval } from './approval.ts';

/** A pool's 401/403 is retried within each step's bounds (it is what a just-restarted kube-apiserver answers). */
const NON_RETRYABLE = [
  'KubernetesRefused',
  ...Object.values(NODE_JOIN_ERRORS),
  ...Object.values(POOL_FAILURES).filter((t) => t !== POOL_FAILURES.credentialsRefused),
];

/** The wait-ready poll: one check may retry for 3 min (an apiserver outage), then the step fails. */
const { checkNodeJoin, reviewNodeJoin } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Preflight reads the pool's cluster. It rides out an unreachable kube-apiserver and the 401/403 one answers
 * right after a restart (its RBAC caches not yet synced) for up to 3 min, then fails with the last error.
 * The reliability bench found 3 of 30 node joins failed by a 30 s outage with 5 attempts over ~15 s.
 */
const { preflightNodeJoin } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Forward steps: a persistent transient fault ends in compensation after a few minutes, not never. */
const { issueJoinToken, labelJoinedNode, recordJoinedNode, recordNodeJoinLedger } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Revocation and compensation: retried until they succeed (a live token or half-joined node is worse than a slow ticket). */
const { revokeJoinToken, removeJoinedNode, unrecordJoinedNode } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: ['KubernetesRefused', POOL_FAILURES.notFound, POOL_FAILURES.credentialsUnreadable],
  },
});

/**
 * Patch: the wait loop reviews the token's CertificateSigningRequests (approve the one for this node, deny and
 * fail on any other) with `reviewNodeJoin` instead of only looking with `checkNodeJoin`, and looks again soon
 * after an approval (the kubelet registers its Node right after it has its certificate).
 */
export const CSR_REVIEW_PATCH = 'node-join-csr-review';

/** Summary of the wait loop's timers (the ticket timeline's line for each pause). */
const WAIT_SUMMARY = 'Waited for the node to join';

/** First pause between looks for the node; doubles up to {@link MAX_POLL_MS}. */
const FIRST_POLL_MS = 2_000;
/** Longest pause: a Ready node is noticed within a minute; a 24 h token makes at most ~1,500 looks. */
const MAX_POLL_MS = 60_000;

interface Compensation {
  label: string;
  run: () => Promise<unknown>;
}

/**
 * One edge-node join ticket. Preflight (pool ready, node name free) → approval chain (`approval.ts`) →
 * issue the one-time bootstrap token (generated and sealed inside the activity; only its public id is in
 * history) → between durable sleeps, approve the CertificateSigningRequest the joining kubelet makes with the
 * token when it is for this node (deny any other) and look for the Node until it is Ready or the token expires
 * → label and taint it → revoke the token → record the node on pool and VDC → ledger `node.joined`.
 * - A CSR from the token for another node name (or a Node of another name carrying this token's join
 *   label): the CSR is denied, the token revoked, the ticket `failed`.
 * - No node before expiry: the token is revoked, the ticket `failed`.
 * - A failure after the node appeared: labels/taints removed, the Node deleted, the token revoked, the
 *   record removed, in reverse order; the ticket ends `compensated`.
 */
export async function nodeJoinWorkflow(input: NodeJoinInput): Promise<NodeJoinResult> {
  const approval = ticketApproval<NodeJoinPreview>(input);
  const args = { ticketId: input.ticketId, vdc: input.vdc, node: input.node };
  let preview: NodeJoinPreview;
  try {
    preview = await preflightNodeJoin(args);
  } catch (err) {
    return approval.finish('failed', `preflight: ${failureMessage(err)}`);
  }
  const closed = await approval.awaitApproval(preview);
  if (closed) return closed;

  approval.state.status = 'executing';
  await approval.project();
  return join(input, approval);
}

async function join(input: NodeJoinInput, approval: TicketApproval<NodeJoinPreview>): Promise<NodeJoinResult> {
  const args = { ticketId: input.ticketId, vdc: input.vdc, node: input.node };
  const { pool, nodeName } = input.node;
  const steps: string[] = [];
  const compensations: Compensation[] = [];
  let token: IssuedJoinToken | undefined;
  let step = 'token';

  const undo = async (status: 'failed' | 'compensated', reason: string): Promise<NodeJoinResult> => {
    for (const c of compensations) {
      try {
        await c.run();
        steps.push(`compensated: ${c.label}`);
      } catch (cerr) {
        return {
          ...(await approval.finish('failed', `${reason}; compensation "${c.label}" failed: ${failureMessage(cerr)}`)),
          ...(token ? { tokenId: token.tokenId } : {}),
          steps,
        };
      }
    }
    return { ...(await approval.finish(status, reason)), ...(token ? { tokenId: token.tokenId } : {}), steps };
  };

  try {
    // Registered before the step: a token issued just before a failure is still revoked (found by ticket id).
    compensations.unshift({ label: 'revoke token', run: () => revokeJoinToken({ ticketId: input.ticketId, pool }) });
    token = await issueJoinToken(args);
    const tokenId = token.tokenId;
    steps.push(step);

    step = 'wait-ready';
    // The deadline in workflow time (deterministic, immune to clock skew between worker and server); the
    // Secret's own expiration (wall clock) is the cluster's backstop, and the token is revoked here anyway.
    const expiresAt = Date.now() + input.node.tokenTtlMinutes * 60_000;
    let pause = FIRST_POLL_MS;
    let appeared = false;
    let arch: string | undefined;
    const reviewCsrs = patched(CSR_REVIEW_PATCH);
    for (;;) {
      const seen: NodeJoinReview = reviewCsrs
        ? await reviewNodeJoin({ ticketId: input.ticketId, pool, nodeName, tokenId })
        : await checkNodeJoin({ pool, nodeName, tokenId });
      if ((seen.approvedCsrs?.length ?? 0) > 0) pause = FIRST_POLL_MS;
      if (seen.state === 'misused') {
        return await undo('failed', `join token ${tokenId} was used by node ${seen.nodes.join(', ')}, not ${nodeName}: refused, token revoked`);
      }
      if (seen.state === 'registered' && !appeared) {
        appeared = true;
        compensations.unshift({ label: 'remove node', run: () => removeJoinedNode({ ticketId: input.ticketId, node: input.node }) });
      }
      if (seen.state === 'registered' && seen.ready) {
        arch = seen.arch;
        break;
      }
      const left = expiresAt - Date.now();
      if (left <= 0) {
        const reason = appeared
          ? `node ${nodeName} registered but was not Ready before the join token expired`
          : `no node ${nodeName} registered before the join token expired`;
        return await undo(appeared ? 'compensated' : 'failed', reason);
      }
      // Named in history, so the ticket timeline does not show these pauses as an approval deadline.
      await (reviewCsrs ? sleep(Math.min(pause, left), { summary: WAIT_SUMMARY }) : sleep(Math.min(pause, left)));
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
    steps.push(step);

    step = 'label';
    await labelJoinedNode(args);
    steps.push(step);

    step = 'revoke-token';
    await revokeJoinToken({ ticketId: input.ticketId, pool });
    steps.push(step);

    step = 'record';
    compensations.unshift({ label: 'remove record', run: () => unrecordJoinedNode({ ticketId: input.ticketId, node: input.node }) });
    await recordJoinedNode({ ...args, ...(arch ? { arch } : {}) });
    steps.push(step);

    step = 'ledger';
    await recordNodeJoinLedger({ ticketId: input.ticketId });
    steps.push(step);
  } catch (err) {
    const reason = `step ${step} failed: ${failureMessage(err)}`;
    return undo(step === 'token' ? 'failed' : 'compensated', reason);
  }
  return { ...(await approval.finish('completed')), tokenId: token.tokenId, steps };
}
