import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../infra/kube/client.ts';
import { loginAs } from '../../api/auth/test-login.ts';
import { demoUserByUsername } from '../../stack/oidc/demo-users.ts';
import { grant, namespaceOf, seedVdc } from '../../stack/seed.ts';
import { stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { openStore, type Store } from '../../store/index.ts';
import { BASE, chooseVdc, openAs, shot, SHOTS, START_MS, startE2e, ticketIdOf, WAIT, type E2e } from './support.ts';
import { KWOK_NODE_ANNOTATION } from '../../stack/servers/kube/kwok-config.ts';

/**
 * The workload views in headless Chromium against the real stack: a workload deployed through the API
 * (tenant submits, VDC admin approves), then the list (status tag, replicas, access), the detail with
 * pods, events, logs (tail and follow, kwok's simulated line), revisions and env, a scale through the
 * dialog, and screenshots in English and Chinese.
 */

let e2e: E2e;
let store: Store;
const vdcId = uniqueName('e2ewl');
const namespace = namespaceOf(vdcId);
const cookies: Record<string, string> = {};
const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
/** An edge node joined for the VDC on `local`, tainted as its join asked (registered with admin credentials here). */
const edgeNode = uniqueName('e2e-edge');
const taint = { key: 'edgeport.io/dedicated', value: vdcId, effect: 'NoSchedule' } as const;

async function call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { cookie: cookies[user] ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ticketStatus(user: string, id: string, status: string): Promise<any> {
  const deadline = Date.now() + WAIT.workflow;
  let last: any;
  while (Date.now() < deadline) {
    last = (await call(user, 'GET', `/api/tickets/${id}`)).body;
    if (last?.status === status) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`ticket ${id} not ${status}: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  e2e = await startE2e();
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, kube, { id: vdcId, name: 'Workloads e2e VDC', domainId: 'e2ewl-domain', quota: { cpu: 4, memoryGi: 8, pods: 10 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'shop-db' }, stringData: { password: 'not-shown' } } });
  for (const u of ['tenant', 'vdcadmin']) cookies[u] = await loginAs(BASE!, u, demoUserByUsername(u)!.password);
  const workload = {
    type: 'workload-deploy',
    vdcId,
    workload: {
      kind: 'Deployment',
      name: 'shop',
      replicas: 1,
      containers: [
        {
          name: 'app',
          image: 'registry.invalid/shop:1',
          requests: { cpu: '100m', memory: '64Mi' },
          limits: { cpu: '200m', memory: '128Mi' },
          env: [
            { name: 'MODE', value: 'prod' },
            { name: 'DB_PASSWORD', secretRef: { name: 'shop-db', key: 'password' } },
          ],
        },
      ],
      service: { type: 'ClusterIP', port: 80 },
    },
  };
  const sub = await call('tenant', 'POST', '/api/tickets', workload);
  expect(sub.status).toBe(201);
  const pending = await ticketStatus('vdcadmin', sub.body.id, 'pending_approval');
  expect((await call('vdcadmin', 'POST', `/api/tickets/${sub.body.id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(
    200,
  );
  await ticketStatus('tenant', sub.body.id, 'completed');
  // A second revision (new image), so the revision history shows what changed.
  const up = await call('tenant', 'POST', '/api/tickets', {
    ...workload,
    workload: { ...workload.workload, containers: [{ ...workload.workload.containers[0], image: 'registry.invalid/shop:2' }] },
  });
  expect(up.status).toBe(201);
  const pendingUp = await ticketStatus('vdcadmin', up.body.id, 'pending_approval');
  expect((await call('vdcadmin', 'POST', `/api/tickets/${up.body.id}/decisions`, { decision: 'approve', previewHash: pendingUp.preview?.hash })).status).toBe(
    200,
  );
  await ticketStatus('tenant', up.body.id, 'completed');
}, START_MS + 240_000);

afterAll(async () => {
  await kube.core.deleteNode({ name: edgeNode }).catch(() => undefined);
  if (e2e) writeFileSync(`${SHOTS}../e2e-workloads-apps.log`, e2e.output());
  await e2e?.close();
  await store?.close();
});

const tab = async (page: Page, name: string) => {
  await page.click(`#tab-${name}`);
  await page.locator(`#pane-${name}`).waitFor({ state: 'visible' });
  // Let the tab bar's slide finish before a screenshot.
  await page.waitForTimeout(400);
};

describe('workload list and detail in the portal', { timeout: 300_000 }, () => {
  let page: Page;

  it('lists the workload with its status, replicas and access address; the detail shows pods, events, logs, revisions, env', async () => {
    page = await e2e.newPage();
    await openAs(page, 'tenant', '/workloads');
    await page.goto(`/workloads?vdc=${vdcId}`);
    const row = page.locator('[data-test="workloads-table"] .el-table__row', { hasText: 'shop' });
    await row.locator('[data-status="available"]').waitFor({ timeout: WAIT.workflow });
    expect(await row.locator('[data-test="replicas"]').innerText()).toBe('1/1');
    expect(await row.innerText()).toContain('registry.invalid/shop:2');
    expect(await row.innerText()).toContain('ClusterIP');
    await shot(page, 'workloads-01-list');

    await page.click('[data-test="workload-shop"]');
    await page.locator('[data-test="workload-detail"] [data-test="pods-table"] .el-table__row').first().waitFor();
    expect(await page.locator('[data-test="pods-table"]').innerText()).toMatch(/Running[\s\S]*|edge-/);
    await shot(page, 'workloads-02-detail-pods');

    await tab(page, 'events');
    await page.locator('[data-test="events-table"] .el-table__row').first().waitFor({ timeout: WAIT.workflow });
    await shot(page, 'workloads-03-events');

    await tab(page, 'logs');
    await page.locator('[data-test="log-lines"]', { hasText: 'simulated container on a kwok node' }).waitFor();
    await page.click('[data-test="log-follow"]');
    await page.locator('[data-test="log-following"]').waitFor();
    await page.locator('[data-test="log-lines"]', { hasText: 'simulated container on a kwok node' }).waitFor();
    await shot(page, 'workloads-04-logs-follow');
    await page.click('[data-test="log-stop"]');

    await tab(page, 'revisions');
    const revisions = await page.locator('[data-test="revisions"]').innerText();
    expect(revisions).toContain('#2');
    expect(revisions).toContain('containers.0.image: "registry.invalid/shop:1" → "registry.invalid/shop:2"');
    await shot(page, 'workloads-05-revisions');
    await tab(page, 'env');
    const env = await page.locator('[data-test="env-table"]').innerText();
    expect(env).toContain('prod');
    expect(env).toContain('Secret shop-db / password');
    await shot(page, 'workloads-05b-env');
  });

  it('scales through the dialog: the API applies it directly and the detail shows 2/2', async () => {
    await page.click('[data-test="op-scale"]');
    const dialog = page.locator('[data-test="scale-dialog"]');
    await dialog.waitFor();
    await dialog.locator('[data-test="scale-replicas"] input').fill('2');
    await page.locator('.dialog-fade-enter-active').waitFor({ state: 'detached' });
    await shot(page, 'workloads-06-scale-dialog');
    await page.click('[data-test="scale-confirm"]');
    await page.locator('.el-message--success').waitFor();
    const deadline = Date.now() + WAIT.workflow;
    while ((await page.locator('[data-test="detail-replicas"]').innerText()) !== '2/2' && Date.now() < deadline) {
      await page.waitForTimeout(1000);
      await page.click('[data-test="detail-refresh"]');
    }
    expect(await page.locator('[data-test="detail-replicas"]').innerText()).toBe('2/2');
    expect((await store.workloads.get(namespace, 'shop'))?.spec.replicas).toBe(2);
    await tab(page, 'operations');
    expect(await page.locator('[data-test="operations-table"]').innerText()).toContain('replicas: 1 → 2');
    await shot(page, 'workloads-07-after-scale');
  });

  it('deploys to the VDC’s edge node from the form: node picked, its taint tolerated in one click; the pod runs there', async () => {
    await kube.core.createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: edgeNode,
          labels: {
            'kubernetes.io/arch': 'arm64',
            'kubernetes.io/os': 'linux',
            'kubernetes.io/hostname': edgeNode,
            type: 'kwok',
            'edgeport.io/vdc': vdcId,
            'edgeport.io/pool': 'local',
          },
          annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
        },
        spec: { taints: [taint] },
        status: {
          capacity: { cpu: '4', memory: '8Gi', pods: '110' },
          allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          nodeInfo: { architecture: 'arm64', operatingSystem: 'linux' } as never,
        },
      },
    });
    // kwok makes it Ready; until then the node lifecycle controller's not-ready taint keeps it from being a target.
    await expect
      .poll(
        async () => {
          const n = await kube.core.readNode({ name: edgeNode });
          return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && (n.spec?.taints ?? []).every((t) => t.key === taint.key);
        },
        { timeout: WAIT.workflow },
      )
      .toBe(true);
    const tenant = await e2e.newPage();
    await openAs(tenant, 'tenant', '/tickets/new/workload-deploy');
    await tenant.locator('[data-test="workload-form"]').waitFor();
    await chooseVdc(tenant, vdcId);
    await tenant.fill('[data-test="wl-name-input"]', 'depot-app');
    await tenant.fill('[data-test="image-input"]', 'registry.invalid/depot:1');
    await tenant.fill('[data-test="cpu-request-input"]', '100m');
    await tenant.fill('[data-test="memory-request-input"]', '64Mi');
    await tenant.fill('[data-test="cpu-limit-input"]', '200m');
    await tenant.fill('[data-test="memory-limit-input"]', '128Mi');
    await tenant.click('[data-test="node-select"]');
    await tenant.click(`[data-test="node-option-${edgeNode}"]`);
    const tolerate = tenant.locator(`[data-test="tolerate-${taint.key}=${taint.value}:${taint.effect}"]`);
    await tolerate.click();
    await expect.poll(async () => tenant.inputValue('[data-test="toleration-key-0"]'), { timeout: WAIT.ui }).toBe(taint.key);
    expect(await tolerate.isDisabled()).toBe(true);
    await shot(tenant, 'workloads-10-deploy-placement');
    await tenant.click('[data-test="review-button"]');
    await tenant.click('[data-test="confirm-submit"]');
    await tenant.waitForURL(/\/tickets\/tkt-/, { timeout: WAIT.navigation });
    const id = ticketIdOf(tenant);
    const pending = await ticketStatus('vdcadmin', id, 'pending_approval');
    expect(pending.payload.workload).toMatchObject({
      nodeSelector: { 'kubernetes.io/hostname': edgeNode },
      tolerations: [{ key: taint.key, operator: 'Equal', value: taint.value, effect: 'NoSchedule' }],
    });
    expect((await call('vdcadmin', 'POST', `/api/tickets/${id}/decisions`, { decision: 'approve', previewHash: pending.preview?.hash })).status).toBe(200);
    await ticketStatus('tenant', id, 'completed');
    const pods = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=depot-app' })).items;
    expect(pods.map((p) => p.spec?.nodeName)).toEqual([edgeNode]);
    await tenant.goto(`/workloads/${vdcId}/${namespace}/depot-app`);
    await tenant.locator('[data-test="pods-table"] .el-table__row').first().waitFor({ timeout: WAIT.workflow });
    await tab(tenant, 'scheduling');
    expect(await tenant.locator('[data-test="sched-toleration"]').innerText()).toContain(`${taint.key} Equal ${taint.value} : NoSchedule`);
    await shot(tenant, 'workloads-11-edge-scheduling');
    await tenant.close();
  });

  it('renders list and detail in Chinese', async () => {
    await page.click('[data-test="lang-switch"]');
    await page.click('[data-test="lang-zh-CN"]');
    await page.goto(`/workloads?vdc=${vdcId}`);
    const row = page.locator('[data-test="workloads-table"] .el-table__row', { hasText: 'shop' });
    await row.locator('[data-status="available"]').waitFor({ timeout: WAIT.workflow });
    expect(await page.locator('[data-test="workloads-page"]').innerText()).toContain('工作负载');
    expect(await row.innerText()).toContain('可用');
    await shot(page, 'workloads-08-list-zh-CN');
    await page.click('[data-test="workload-shop"]');
    await page.locator('[data-test="pods-table"] .el-table__row').first().waitFor();
    expect(await page.locator('[data-test="workload-tabs"]').innerText()).toContain('容器组');
    await tab(page, 'revisions');
    await shot(page, 'workloads-09-detail-zh-CN');
  });
});
