import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../infra/kube/client.ts';
import { demoUserByUsername } from '../../stack/oidc/demo-users.ts';
import { EDGE1_POOL, grant, seedVdc } from '../../stack/seed.ts';
import { clusterOfKubeconfig, parseJoinCommand, runJoinCommand } from '../../stack/testing/edge-kubelet.ts';
import { stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { openStore, type Store } from '../../store/index.ts';
import { BASE, chooseVdc, openAs, shot, startE2e, ticketIdOf, waitForStatus, WAIT, type E2e } from './support.ts';

/**
 * Edge node join from the portal, end to end on the stack's `edge-1` cluster: a VDC admin opens "Add edge
 * node" on their VDC's edge-1 pool, fills the form (name, arch, taint, reason) and submits; an operations
 * admin approves; the VDC admin shows the one-time join command and copies it (read back from the browser's
 * clipboard); the test runs that command as the edge server's kubelet would (bootstrap token → CSR approved by
 * the worker → Node registered with its own certificate, kwok playing the node); the ticket page then says
 * joined (arm64) and the command was fetched once, by whom; the ops admin's pool page lists the node with its
 * architecture; a tenant of the VDC deploys a workload pinned to the new node from the deploy form (its join
 * taint tolerated in one click), the VDC admin approves, and the real scheduler puts the pod on it.
 * Screenshots: `test-output/screenshots/join-*.png`.
 */

const vdcId = uniqueName('e2ej');
const nodeName = uniqueName('edge-e2e');
const edge = createKubeClients(stackEnv('EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG'));
const edge1 = clusterOfKubeconfig(stackEnv('EDGEPORT_EDGE1_KUBECONFIG'));
let e2e: E2e;
let store: Store;
let ticketId = '';
let copied = '';
const pages: Partial<Record<'vdcadmin' | 'ops' | 'tenant', Page>> = {};
const pageOf = (who: keyof typeof pages): Page => {
  const p = pages[who];
  if (!p) throw new Error(`${who} has not signed in`);
  return p;
};

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  await seedVdc(store, edge, { id: vdcId, name: 'Edge join VDC', domainId: 'e2e-join-domain', quota: { cpu: 4, memoryGi: 8, pods: 20 }, pool: EDGE1_POOL });
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  e2e = await startE2e();
}, 400_000);

// A failed step leaves a picture of every page it had open.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  for (const [who, page] of Object.entries(pages)) await shot(page, `join-failed-${who}`).catch(() => undefined);
});

afterAll(async () => {
  await e2e?.close();
  await edge.core.deleteNode({ name: nodeName }).catch(() => undefined);
  await edge.core.deleteNamespace({ name: `vdc-${vdcId}` }).catch(() => undefined);
  await store?.close();
});

describe.sequential('edge node join from the portal', { timeout: 300_000 }, () => {
  it("a VDC admin asks for an edge node on edge-1 from the VDC's pool", async () => {
    pages.vdcadmin = await e2e.newPage();
    const page = pageOf('vdcadmin');
    await openAs(page, 'vdcadmin', `/admin/vdcs/${vdcId}`);
    await page.locator(`[data-test="add-edge-node-${EDGE1_POOL}"]`).click();
    await page.locator('[data-test="node-join-form"]').waitFor();
    expect(await page.locator('[data-test="pool-input"]').inputValue()).toBe(EDGE1_POOL);
    // The only VDC of this user on edge-1 is chosen for them.
    await expect.poll(() => page.locator('[data-test="vdc-select"]').innerText(), { timeout: WAIT.ui }).toContain('Edge join VDC');
    await page.fill('[data-test="node-name-input"]', nodeName);
    await page.click('[data-test="arch-select"]');
    await page.click('[data-test="arch-option-arm64"]');
    await page.click('[data-test="taint-add"]');
    await page.fill('[data-test="taint-key-0"]', 'edge.example.com/site');
    await page.fill('[data-test="reason-input"]', 'New shop gateway');
    await shot(page, 'join-01-request-form');
    await page.click('[data-test="review-button"]');
    await page.locator('[data-test="preview-summary"]').waitFor();
    await Promise.all([page.waitForURL((url) => /^\/tickets\/(?!new)[^/]+$/.test(url.pathname)), page.click('[data-test="confirm-submit"]')]);
    ticketId = ticketIdOf(page);
    await page.locator('[data-test="join-panel"]').waitFor();
    await waitForStatus(page, 'pending_approval', WAIT.workflow);
    await page.locator('[data-test="join-state-not-issued"]').waitFor();
    await shot(page, 'join-02-pending');
  });

  it('an operations admin approves', async () => {
    pages.ops = await e2e.newPage();
    const ops = pageOf('ops');
    await openAs(ops, 'opsadmin', `/tickets/${ticketId}`);
    await ops.locator('[data-test="decision-panel"]').waitFor();
    await ops.click('[data-test="approve-button"]');
    await waitForStatus(ops, /^\s*(approved|executing)\s*$/, WAIT.workflow);
  });

  it('the requester shows the one-time command once and copies it', async () => {
    const page = pageOf('vdcadmin');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    await page.reload();
    await page.locator('[data-test="join-state-waiting"]').waitFor({ timeout: WAIT.workflow });
    await page.locator('[data-test="join-show"]').click();
    await page.locator('.el-message-box__btns .el-button--primary').click();
    const text = (await page.locator('[data-test="join-command-text"]').innerText()).trim();
    expect(text).toMatch(/kubeadm join \S+ --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64} --node-name /);
    expect(parseJoinCommand(text)).toMatchObject({ nodeName, endpoint: new URL(edge1.server).host });
    await page.locator('[data-test="join-copy"]').click();
    copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(text);
    expect(await page.locator('[data-test="join-expires"]').innerText()).not.toBe('');
    await shot(page, 'join-03-command-shown');
    // Handed out once: after a reload the page says when and by whom, and offers no second fetch.
    await page.reload();
    await expect.poll(() => page.locator('[data-test="join-fetched"]').innerText(), { timeout: WAIT.ui }).toContain('Victor VDC-Admin');
    expect(await page.locator('[data-test="join-show"]').count()).toBe(0);
    expect(await page.locator('[data-test="join-command"]').count()).toBe(0);
    expect((await page.request.get(`/api/tickets/${ticketId}/join-command`)).status()).toBe(410);
  });

  it('the edge server runs the copied command; the ticket and the pool page show the node joined with its architecture', async () => {
    const joined = await runJoinCommand(copied, { caData: edge1.caData, arch: 'arm64' });
    expect(joined.node.metadata?.name).toBe(nodeName);
    const page = pageOf('vdcadmin');
    await page.reload();
    expect(await waitForStatus(page, 'completed', WAIT.workflow)).toBe('completed');
    await page.locator('[data-test="join-state-joined"]').waitFor({ timeout: WAIT.ui });
    expect(await page.locator('[data-test="join-arch"]').innerText()).toBe('arm64');
    await shot(page, 'join-04-joined');

    const ops = pageOf('ops');
    await ops.goto(`/admin/pools/${EDGE1_POOL}`);
    await ops.locator('[data-test="add-edge-node"]').waitFor();
    await expect
      .poll(
        () =>
          ops
            .locator(`[data-test="arch-${nodeName}"]`)
            .innerText()
            .catch(() => ''),
        { timeout: WAIT.ui },
      )
      .toBe('arm64/linux');
    const row = ops.locator('[data-test="nodes-table"] tr', { hasText: nodeName });
    expect(await row.innerText()).toMatch(/Ready/);
    expect(await row.innerText()).toContain(`edgeport.io/vdc=${vdcId}`);
    await shot(ops, 'join-05-pool-page');
    const node = await edge.core.readNode({ name: nodeName });
    expect(node.spec?.taints).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'edge.example.com/site', effect: 'NoSchedule' })]));
  });

  it('a tenant deploys a workload pinned to the joined node, tolerating its join taint; the pod runs there', async () => {
    pages.tenant = await e2e.newPage();
    const tenant = pageOf('tenant');
    await openAs(tenant, 'tenant', '/tickets/new/workload-deploy');
    await tenant.locator('[data-test="workload-form"]').waitFor();
    await chooseVdc(tenant, vdcId);
    await tenant.fill('[data-test="wl-name-input"]', 'gateway-agent');
    await tenant.fill('[data-test="image-input"]', 'registry.invalid/gateway-agent:1');
    await tenant.fill('[data-test="cpu-request-input"]', '100m');
    await tenant.fill('[data-test="memory-request-input"]', '64Mi');
    await tenant.fill('[data-test="cpu-limit-input"]', '200m');
    await tenant.fill('[data-test="memory-limit-input"]', '128Mi');
    await tenant.click('[data-test="node-select"]');
    await tenant.click(`[data-test="node-option-${nodeName}"]`);
    await tenant.click('[data-test="tolerate-edge.example.com/site:NoSchedule"]');
    await expect.poll(() => tenant.inputValue('[data-test="toleration-key-0"]'), { timeout: WAIT.ui }).toBe('edge.example.com/site');
    await shot(tenant, 'join-06-deploy-pinned');
    await tenant.click('[data-test="review-button"]');
    await Promise.all([tenant.waitForURL((url) => /^\/tickets\/tkt-/.test(url.pathname)), tenant.click('[data-test="confirm-submit"]')]);
    const deployId = ticketIdOf(tenant);
    await waitForStatus(tenant, 'pending_approval', WAIT.workflow);

    const admin = pageOf('vdcadmin');
    await admin.goto(`/tickets/${deployId}`);
    await admin.locator('[data-test="decision-panel"]').waitFor();
    await admin.click('[data-test="approve-button"]');
    expect(await waitForStatus(admin, 'completed', WAIT.workflow)).toBe('completed');

    const pods = (await edge.core.listNamespacedPod({ namespace: `vdc-${vdcId}`, labelSelector: 'app.kubernetes.io/name=gateway-agent' })).items;
    expect(pods.map((p) => p.spec?.nodeName)).toEqual([nodeName]);
    expect(pods[0]?.spec?.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'edge.example.com/site', effect: 'NoSchedule' })]));
    await tenant.goto(`/workloads/${vdcId}/vdc-${vdcId}/gateway-agent`);
    await expect
      .poll(
        () =>
          tenant
            .locator('[data-test="pods-table"]')
            .innerText()
            .catch(() => ''),
        { timeout: WAIT.workflow },
      )
      .toContain(nodeName);
    await shot(tenant, 'join-07-workload-on-node');
  });
});
