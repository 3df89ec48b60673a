import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { neededRoles } from '../../policies/approval-steps.ts';
import { NODE_JOIN_LABELS } from '../../common/node-join-workflow.ts';
import { FINAL_STATUSES, type SubmitTicket } from '../../common/tickets.ts';
import { KWOK_NODE_ANNOTATION } from '../../stack/servers/kube/kwok-config.ts';
import type { ApiClient, TicketWithCaps } from './client.ts';

/** The demo user who acts in each approval role (nobody else holds them in the bench's VDCs). */
export const APPROVER_OF: Record<string, string> = { 'vdc-admin': 'vdcadmin', 'ops-admin': 'opsadmin' };

/** One ticket the driver pushes through: who submits it, its body, and whether the approver rejects it. */
export interface PlannedTicket {
  requester: string;
  body: SubmitTicket;
  reject?: boolean;
}

export interface DriveResult {
  id: string;
  status: string;
  submittedAt: number;
  finishedAt: number;
}

/** Submits with an idempotency key, retrying through outages; returns the ticket id or the refusal. */
export async function submit(api: ApiClient, t: PlannedTicket, key: string): Promise<{ id?: string; status: number; body: unknown }> {
  const r = await api.retrying<{ id: string }>(t.requester, 'POST', '/api/tickets', t.body, { 'idempotency-key': key });
  return { ...(r.status === 200 || r.status === 201 ? { id: r.body.id } : {}), status: r.status, body: r.body };
}

/**
 * Plays the people around one ticket until it is final: the approver of each pending step approves (or
 * rejects, when planned), and for a node join the requester fetches the join command and "the node" (a
 * kwok Node created with the admin client) registers with the token's label. Polls as the ops admin,
 * who may read every ticket. Gives up after `timeoutMs`.
 */
export async function driveToFinal(
  api: ApiClient,
  id: string,
  t: PlannedTicket,
  opts: { admin: CoreV1Api; timeoutMs: number; pollMs?: number; workflowClosed?: (id: string) => Promise<string | undefined> },
): Promise<TicketWithCaps | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  let nodeCreated = false;
  let last: TicketWithCaps | undefined;
  let closedSeen = 0;
  for (let poll = 1; Date.now() < deadline; poll++) {
    const r = await api.ticket('opsadmin', id);
    if (r.status === 200) {
      last = r.body;
      if (FINAL_STATUSES.includes(last.status)) return last;
      // A workflow that closed without making its ticket final: stop waiting once that has been seen twice.
      if (opts.workflowClosed && (closedSeen > 0 || poll % 10 === 0)) {
        closedSeen = (await opts.workflowClosed(id)) ? closedSeen + 1 : 0;
        if (closedSeen >= 2) return last;
      }
      if (last.status === 'pending_approval') {
        const roles = neededRoles(last.policy, last.approvals, last.currentStep);
        const user = roles.map((role) => APPROVER_OF[role]).find((u): u is string => !!u && u !== t.requester);
        if (user) {
          await api.retrying(user, 'POST', `/api/tickets/${id}/decisions`, {
            decision: t.reject ? 'reject' : 'approve',
            ...(last.preview?.hash ? { previewHash: last.preview.hash } : {}),
          });
        }
      }
      if (t.body.type === 'node-join' && last.status === 'executing' && !nodeCreated) nodeCreated = await joinNode(api, id, t, opts.admin);
    }
    await sleep((opts.pollMs ?? 1000) * (0.75 + Math.random() / 2));
  }
  return last;
}

/** Fetches the one-time join command and registers the kwok Node with the token's label; false while not issued yet. */
async function joinNode(api: ApiClient, id: string, t: PlannedTicket, admin: CoreV1Api): Promise<boolean> {
  if (t.body.type !== 'node-join') return true;
  const r = await api.call<{ tokenId: string }>(t.requester, 'GET', `/api/tickets/${id}/join-command`);
  if (r.status === 410) return true;
  if (r.status !== 200) return false;
  const nodeName = t.body.nodeName;
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': nodeName,
        type: 'kwok',
        [NODE_JOIN_LABELS.joinToken]: r.body.tokenId,
      },
      annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
  };
  // The kube-apiserver may be down right now: keep trying (a kubelet would too).
  for (let i = 0; i < 120; i++) {
    try {
      await admin.createNode({ body: node });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 409) return true;
      await sleep(1000);
    }
  }
  return true;
}
