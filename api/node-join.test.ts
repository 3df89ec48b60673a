import { ApiException } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../infra/kube/client.ts';
import { bootstrapSecretName } from '../activities/node-join.ts';
import type { JoinStatusView } from '../common/node-join-workflow.ts';
import type { TicketView } from '../common/tickets.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../stack/seed.ts';
import { clusterOfKubeconfig, runJoinCommand, untilTokenRefused } from '../stack/testing/edge-kubelet.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../stack/testing/env.ts';
import { testHttp } from '../stack/testing/http.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * Node join over HTTP with the api and worker as real processes: submit (validation and policy refusals
 * store nothing), ops-admin approval, the one-time join command (who may fetch it, once), the join status
 * (waiting → joined, fetched by whom), the node joining with the command's token itself (kubelet TLS bootstrap
 * against the pool's kube-apiserver, CSR approved by the worker), completion; the token's secret never in the
 * ticket or the processes' logs.
 */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const env = appEnvFromProcess();
const admin = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const local = clusterOfKubeconfig(stackEnv('EDGEPORT_KUBECONFIG'));
const vdcId = uniqueName('njh');
const nodeName = uniqueName('edge-http');

let store: Store;
let api: AppProcess;
let worker: AppProcess;
const { call, login, untilTicket } = testHttp();

const until = (id: string, pred: (t: TicketView) => boolean, timeout = 90_000): Promise<TicketView> => untilTicket('vdcadmin', id, pred, { timeout });

const ticketCount = () => store.testing.collection('tickets').countDocuments({ 'vdc.id': vdcId });

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, admin, { id: vdcId, name: 'Join VDC', domainId: 'join-http-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 } });
  for (const [username, role] of [
    ['tenant', 'vdc-user'],
    ['vdcadmin', 'vdc-admin'],
  ] as const) {
    await grant(store, demoUserByUsername(username)!, [{ role, scope: { type: 'vdc', vdcId } }]);
  }
  [worker, api] = await Promise.all([
    (async () => {
      const p = startApp(repoDir, 'worker', env);
      await waitForWorker(p);
      return p;
    })(),
    (async () => {
      const p = startApp(repoDir, 'api', env);
      await waitForApi(p, base);
      return p;
    })(),
  ]);
  await login('tenant', 'vdcadmin', 'other', 'opsadmin');
}, 180_000);

afterAll(async () => {
  await admin.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await Promise.all([api?.stop(), worker?.stop()]);
  await store?.close();
});

describe('node join over HTTP', () => {
  it.each([
    ['node name not DNS-1123', { nodeName: 'Edge_1' }, 'nodeName'],
    ['token lifetime below 5 min', { tokenTtlMinutes: 4 }, 'tokenTtlMinutes'],
    ['token lifetime above 24 h', { tokenTtlMinutes: 1441 }, 'tokenTtlMinutes'],
    ['unknown architecture', { arch: 'mips' }, 'arch'],
    ['bad taint effect', { taints: [{ key: 'edge', effect: 'Sometimes' }] }, 'taints[0].effect'],
    ['reserved label prefix', { labels: { 'edgeport.io/vdc': 'other' } }, 'labels.edgeport.io/vdc'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_name, over, field) => {
    const before = await ticketCount();
    const r = await call('vdcadmin', 'POST', '/api/tickets', { type: 'node-join', vdcId, pool: 'local', nodeName, tokenTtlMinutes: 30, ...over });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await ticketCount()).toBe(before);
  });

  it("refuses a pool other than the VDC's by policy (422 naming pool)", async () => {
    const r = await call('vdcadmin', 'POST', '/api/tickets', { type: 'node-join', vdcId, pool: 'elsewhere', nodeName, tokenTtlMinutes: 30 });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([{ field: 'pool', message: expect.stringContaining('lives in resource pool local') }]);
  });

  it('submit → ops admin approves → join command fetched once by the requester → kwok node joins → completed', { timeout: 150_000 }, async () => {
    const sub = await call('vdcadmin', 'POST', '/api/tickets', {
      type: 'node-join',
      vdcId,
      pool: 'local',
      nodeName,
      arch: 'amd64',
      labels: { site: 'depot-3' },
      taints: [{ key: 'edge.example.com/dedicated', value: 'depot', effect: 'NoSchedule' }],
      tokenTtlMinutes: 60,
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    expect(sub.body.policy).toMatchObject({ outcome: 'approval', chain: [{ role: 'ops-admin' }] });
    const pending = await until(id, (t) => t.status === 'pending_approval');
    expect(pending.preview).toMatchObject({ nodeName, pool: 'local', labels: { site: 'depot-3', 'edgeport.io/vdc': vdcId } });
    expect((await call('vdcadmin', 'GET', `/api/tickets/${id}/join-command`)).status).toBe(409);
    const status = async (user: string): Promise<JoinStatusView> => {
      const r = await call(user, 'GET', `/api/tickets/${id}/join-status`);
      expect(r.status).toBe(200);
      return r.body as JoinStatusView;
    };
    expect(await status('vdcadmin')).toEqual({ ticketId: id, pool: 'local', nodeName, state: 'not-issued', commandAvailable: false, mayFetch: true });

    expect((await call('opsadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(200);
    await until(id, (t) => t.status === 'executing');
    // Readers who are neither the requester nor an approver may not have it; outsiders do not see the ticket.
    expect((await call('tenant', 'GET', `/api/tickets/${id}/join-command`)).status).toBe(403);
    expect((await call('other', 'GET', `/api/tickets/${id}/join-command`)).status).toBe(404);
    let fetched = await call('vdcadmin', 'GET', `/api/tickets/${id}/join-command`);
    for (let i = 0; fetched.status === 409 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      fetched = await call('vdcadmin', 'GET', `/api/tickets/${id}/join-command`);
    }
    expect(fetched.status).toBe(200);
    const { tokenId, command } = fetched.body as { tokenId: string; command: string };
    const waiting = await status('tenant');
    expect(waiting).toMatchObject({
      state: 'waiting',
      tokenId,
      expiresAt: fetched.body.expiresAt,
      commandAvailable: false,
      mayFetch: false,
      fetched: { by: { sub: demoUserByUsername('vdcadmin')!.sub } },
    });
    expect(JSON.stringify(waiting)).not.toContain(command);
    const token = /--token ([a-z0-9]{6}\.[a-z0-9]{16})/.exec(command)?.[1] as string;
    expect(token.startsWith(`${tokenId}.`)).toBe(true);
    const again = await call('vdcadmin', 'GET', `/api/tickets/${id}/join-command`);
    expect(again.status).toBe(410);
    expect(again.text).not.toContain(token);

    // The edge server runs the command: its kubelet bootstraps with the token against the pool's kube-apiserver.
    const joinedNode = await runJoinCommand(command, { caData: local.caData, arch: 'amd64' });
    expect(joinedNode.node.metadata?.labels).toMatchObject({ 'edgeport.io/join-token': tokenId, 'kubernetes.io/arch': 'amd64' });
    const done = await until(id, (t) => t.status === 'completed' || t.status === 'failed' || t.status === 'compensated', 120_000);
    expect(done).toMatchObject({ status: 'completed' });
    const joined = await admin.core.readNode({ name: nodeName });
    expect(joined.metadata?.labels).toMatchObject({ 'edgeport.io/vdc': vdcId, 'edgeport.io/pool': 'local', site: 'depot-3' });
    expect(joined.spec?.taints).toEqual(expect.arrayContaining([{ key: 'edge.example.com/dedicated', value: 'depot', effect: 'NoSchedule' }]));
    await expect(admin.core.readNamespacedSecret({ name: bootstrapSecretName(tokenId), namespace: 'kube-system' })).rejects.toSatisfy(
      (e) => e instanceof ApiException && e.code === 404,
    );
    expect((await call('vdcadmin', 'GET', `/api/tickets/${id}/join-command`)).status).toBe(410);
    expect(await status('vdcadmin')).toMatchObject({
      state: 'joined',
      tokenId,
      revokedAt: expect.any(String),
      commandAvailable: false,
      node: { arch: 'amd64', joinedAt: expect.any(String) },
    });
    expect(await untilTokenRefused(local.server, local.caData, token)).toBe(401);

    const secret = token.split('.')[1] as string;
    const view = await call('vdcadmin', 'GET', `/api/tickets/${id}`);
    const timeline = await call('vdcadmin', 'GET', `/api/tickets/${id}/timeline`);
    expect(view.text).not.toContain(secret);
    expect(timeline.text).not.toContain(secret);
    expect(JSON.stringify(await store.tickets.get(id))).not.toContain(secret);
    expect(api.output() + worker.output()).not.toContain(secret);
    const audit = await store.testing
      .collection('audit_entries')
      .find({ action: 'node-join.command.fetch', target: `ticket:${id}` })
      .toArray();
    expect(audit.map((a) => a.outcome).sort()).toEqual(['failure', 'failure', 'success']);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });
});
