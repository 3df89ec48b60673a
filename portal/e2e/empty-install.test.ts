import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../infra/kube/client.ts';
import { readQuota } from '../../infra/kube/quota.ts';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../../stack/lib/apps.ts';
import { appEnvFromProcess, isolatedMongoUrl, stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { openStore, type Store } from '../../store/index.ts';
import { BASE, chooseVdc, launchBrowser, openAs, shot, START_MS, ticketIdOf, waitForStatus, WAIT, type E2eBrowser } from './support.ts';

/**
 * Day one on a real edge estate, from an EMPTY database (no seed): the api and worker run on a database of
 * their own and a task queue of their own, with `EDGEPORT_BOOTSTRAP_ADMINS=opsadmin` as the only setting.
 * The bootstrap admin signs in, registers the second real cluster as pool `edge-1` from its kubeconfig in the
 * portal, creates a domain and a VDC on `edge-1` with a quota and adds `tenant` and `vdcadmin` by username;
 * `tenant` asks for more quota and deploys a workload, `vdcadmin` approves both; the ResourceQuota and the
 * Deployment exist on edge-1's kube-apiserver and not on local's; the admin publishes the install's first price
 * book (it applies from the beginning) and finance's report of the VDC prices its lines with edge-1's prices.
 * Screenshots: `test-output/screenshots/empty-*.png`.
 */

const domainId = uniqueName('day1-dom');
const vdcId = uniqueName('day1');
const namespace = `vdc-${vdcId}`;
const workload = 'hello';
const apps: AppProcess[] = [];
let e2e: E2eBrowser;
let store: Store;
const edge = createKubeClients(stackEnv('EDGEPORT_EDGE1_KUBE_ADMIN_KUBECONFIG'));
const local = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
const pages: Partial<Record<'ops' | 'tenant' | 'vdcadmin' | 'finance', Page>> = {};

const pageOf = (who: keyof typeof pages): Page => {
  const p = pages[who];
  if (!p) throw new Error(`${who} has not signed in`);
  return p;
};

const exists = (read: () => Promise<unknown>): Promise<boolean> =>
  read().then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  const env = {
    ...appEnvFromProcess(),
    EDGEPORT_MONGO_URL: isolatedMongoUrl('empty'),
    EDGEPORT_TASK_QUEUE: uniqueName('day1-q'),
    EDGEPORT_BOOTSTRAP_ADMINS: 'opsadmin',
  };
  store = await openStore(env.EDGEPORT_MONGO_URL);
  // Opening the store may create collections and indexes, never documents: nothing is there to start from.
  for (const c of ['users', 'pools', 'domains', 'vdcs', 'tickets', 'pricebook', 'ledger'])
    expect(await store.testing.collection(c).countDocuments(), c).toBe(0);
  const repoDir = fileURLToPath(new URL('../../', import.meta.url));
  apps.push(startApp(repoDir, 'worker', env), startApp(repoDir, 'api', env));
  await Promise.all([waitForWorker(apps[0]!, START_MS), waitForApi(apps[1]!, BASE!, START_MS)]);
  e2e = await launchBrowser();
}, START_MS + 60_000);

afterAll(async () => {
  await e2e?.close();
  await Promise.all(apps.map((a) => a.stop()));
  await edge.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await store?.testing.dropDatabase().catch(() => undefined);
  await store?.close();
});

describe('day one from an empty database', { timeout: 300_000 }, () => {
  it('the bootstrap admin signs in and is an operations admin; the others have no access yet', async () => {
    pages.ops = await e2e.newPage();
    await openAs(pageOf('ops'), 'opsadmin', '/admin/pools');
    await pageOf('ops').locator('[data-test="pools-view"]').waitFor();
    expect(await pageOf('ops').locator('[data-test^="pool-link-"]').count()).toBe(0);
    await shot(pageOf('ops'), 'empty-01-bootstrap-admin-no-pools');
    for (const who of ['tenant', 'vdcadmin', 'finance'] as const) {
      pages[who] = await e2e.newPage();
      await openAs(pageOf(who), who, '/dashboard');
      await pageOf(who).locator('[data-test="no-access"]').waitFor();
      expect(await pageOf(who).locator('[data-test="no-access-user"]').innerText()).toContain(who);
    }
    await shot(pageOf('tenant'), 'empty-02-tenant-no-access');
  });

  it('registers the edge cluster as pool edge-1 from its kubeconfig', async () => {
    const ops = pageOf('ops');
    await ops.click('[data-test="new-pool"]');
    await ops.fill('[data-test="pool-id-input"]', 'edge-1');
    await ops.fill('[data-test="pool-name-input"]', 'Edge pool 1 (arm64)');
    const kubeconfig = readFileSync(stackEnv('EDGEPORT_EDGE1_KUBECONFIG'), 'utf8');
    await ops.fill('[data-test="pool-server-input"]', /server:\s*(\S+)/.exec(kubeconfig)?.[1] ?? '');
    await ops.click('[data-test="auth-kubeconfig"]');
    await ops.fill('[data-test="pool-kubeconfig-input"]', kubeconfig);
    await shot(ops, 'empty-03-register-pool');
    await ops.click('[data-test="pool-submit"]');
    await expect
      .poll(
        () =>
          ops
            .locator('[data-test="pool-status-edge-1"]')
            .innerText()
            .catch(() => ''),
        { timeout: WAIT.workflow },
      )
      .toMatch(/ready/i);
    await shot(ops, 'empty-04-pool-ready');
  });

  it('creates a domain and a VDC on edge-1 with a quota; it is provisioned; adds tenant and vdcadmin by username', async () => {
    const ops = pageOf('ops');
    await ops.click('[data-test="menu-domains"]');
    await ops.locator('[data-test="domains-table"]').waitFor();
    await ops.click('[data-test="new-domain"]');
    await ops.fill('[data-test="domain-id-input"]', domainId);
    await ops.fill('[data-test="domain-name-input"]', 'Day one');
    await ops.click('[data-test="domain-submit"]');
    await ops.locator(`[data-test="domain-row-${domainId}"]`).waitFor();

    await ops.click(`[data-test="new-vdc-${domainId}"]`);
    await ops.fill('[data-test="vdc-id-input"]', vdcId);
    await ops.fill('[data-test="vdc-name-input"]', 'Day one VDC');
    await ops.click('[data-test="vdc-pool-0-select"]');
    await ops.click('[data-test="vdc-pool-option-edge-1"]');
    await ops.fill('[data-test="vdc-cpu-input"] input', '2');
    await ops.fill('[data-test="vdc-memoryGi-input"] input', '4');
    await ops.fill('[data-test="vdc-pods-input"] input', '10');
    await ops.locator('[data-test="vdc-pods-input"] input').blur();
    await shot(ops, 'empty-05-vdc-form');
    await ops.click('[data-test="vdc-submit"]');
    await ops.locator('[data-test="vdc-form"]').waitFor({ state: 'detached' });

    await ops.goto(`/admin/vdcs/${vdcId}`);
    await ops.locator('[data-test="vdc-info"]').waitFor();
    await expect
      .poll(
        async () => {
          await ops.reload();
          return ops
            .locator('[data-test="vdc-provisioning"]')
            .innerText()
            .catch(() => '');
        },
        { timeout: WAIT.workflow, interval: 2000 },
      )
      .toMatch(/ready/i);
    await expect.poll(() => ops.locator('[data-test="vdc-pools-table"]').innerText(), { timeout: WAIT.ui }).toContain('edge-1');

    for (const [username, role] of [
      ['tenant', 'vdc-user'],
      ['vdcadmin', 'vdc-admin'],
    ] as const) {
      const picker = ops.locator('[data-test="member-user-select"]');
      await picker.click();
      await ops.keyboard.type(username);
      await ops.click(`[data-test="user-option-${username}"]`);
      await ops.click('[data-test="member-roles-select"]');
      await ops.click(`[data-test="role-option-${role}"]`);
      await ops.keyboard.press('Escape');
      await ops.click('[data-test="add-member-form"] button[type="submit"]');
      await ops.locator(`[data-test="remove-member-u-${username}"]`).waitFor();
    }
    await shot(ops, 'empty-06-vdc-ready-with-members');
    // The namespace and its quota are on edge-1 and not on local.
    expect((await readQuota(edge, namespace)).hard.cpu).toBe(2);
    expect(await exists(() => local.core.readNamespace({ name: namespace }))).toBe(false);
  });

  it('tenant asks for more quota, vdcadmin approves, the ResourceQuota on edge-1 holds it', async () => {
    const tenant = pageOf('tenant');
    await tenant.goto('/tickets/new');
    await tenant.locator('[data-test="quota-form"]').waitFor();
    await chooseVdc(tenant, vdcId);
    await tenant.locator('[data-test="current-quota"]').waitFor();
    await tenant.fill('[data-test="cpu-input"] input', '4');
    await tenant.fill('[data-test="memoryGi-input"] input', '8');
    await tenant.fill('[data-test="pods-input"] input', '20');
    await tenant.fill('[data-test="reason-input"]', 'day one: room for the first workloads');
    await tenant.locator('[data-test="reason-input"]').blur();
    await Promise.all([tenant.waitForURL((url) => /^\/tickets\/(?!new$)[^/]+$/.test(url.pathname)), tenant.click('[data-test="submit-button"]')]);
    const ticket = ticketIdOf(tenant);
    expect(await waitForStatus(tenant, 'pending_approval', WAIT.workflow)).toBe('pending_approval');
    await shot(tenant, 'empty-07-quota-pending');

    await approve(ticket, 'empty-08-quota-approve');
    await tenant.goto(`/tickets/${encodeURIComponent(ticket)}`);
    expect(await waitForStatus(tenant, 'completed', WAIT.workflow)).toBe('completed');
    expect((await readQuota(edge, namespace)).hard.cpu).toBe(4);
    expect((await readQuota(local, namespace)).exists).toBe(false);
  });

  it('tenant deploys a workload, vdcadmin approves, the Deployment runs on edge-1 only', async () => {
    const tenant = pageOf('tenant');
    await tenant.goto('/tickets/new/workload-deploy');
    await tenant.locator('[data-test="workload-form"]').waitFor();
    await chooseVdc(tenant, vdcId);
    await tenant.fill('[data-test="wl-name-input"]', workload);
    await tenant.fill('[data-test="image-input"]', 'nginx:1.27');
    await tenant.fill('[data-test="cpu-request-input"]', '100m');
    await tenant.fill('[data-test="memory-request-input"]', '64Mi');
    await tenant.fill('[data-test="cpu-limit-input"]', '200m');
    await tenant.fill('[data-test="memory-limit-input"]', '128Mi');
    await tenant.locator('[data-test="memory-limit-input"]').blur();
    await tenant.click('[data-test="review-button"]');
    await tenant.locator('[data-test="preview-summary"]').waitFor();
    await Promise.all([tenant.waitForURL((url) => /^\/tickets\/tkt-/.test(url.pathname)), tenant.click('[data-test="confirm-submit"]')]);
    const ticket = ticketIdOf(tenant);
    expect(await waitForStatus(tenant, 'pending_approval', WAIT.workflow)).toBe('pending_approval');
    await shot(tenant, 'empty-09-deploy-pending');

    await approve(ticket, 'empty-10-deploy-approve');
    await tenant.goto(`/tickets/${encodeURIComponent(ticket)}`);
    expect(await waitForStatus(tenant, /^\s*(completed|failed|compensated)\s*$/, 180_000)).toBe('completed');
    await shot(tenant, 'empty-11-deploy-completed');
    expect(await exists(() => edge.objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: workload, namespace } }))).toBe(true);
    expect(await exists(() => local.objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: workload, namespace } }))).toBe(false);
  });

  it("the install's first price book prices the month with edge-1 prices: finance sees the VDC's lines priced for edge-1", async () => {
    const ops = pageOf('ops');
    const granted = await ops.request.post('/api/bindings', { data: { user: 'finance', role: 'finance', scope: { type: 'platform' } } });
    expect(granted.status(), await granted.text()).toBe(200);
    const finance = pageOf('finance');
    // Publishing prices is an operations admin's; finance reads the reports.
    const book = await ops.request.post('/api/pricebook', {
      data: {
        currency: 'CNY',
        note: 'day one',
        prices: [
          { resource: 'cpu', pool: 'edge-1', unitPrice: '90' },
          { resource: 'cpu', unitPrice: '1000' },
          { resource: 'memory', pool: 'edge-1', unitPrice: '10' },
          { resource: 'pods', unitPrice: '0' },
        ],
      },
    });
    expect(book.status(), await book.text()).toBe(201);
    expect(((await book.json()) as { effectiveFrom: string }).effectiveFrom).toBe('1970-01');

    const month = new Date().toISOString().slice(0, 7);
    // Reports are cut at a full hour (rebuilt identically within it); the next one covers what ran just now.
    const asOf = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();
    const report = await finance.request.get(`/api/reports/vdcs/${vdcId}?month=${month}&asOf=${encodeURIComponent(asOf)}`);
    expect(report.status(), await report.text()).toBe(200);
    const body = JSON.stringify(await report.json());
    expect(body).toContain('"pool":"edge-1"');
    expect(body).not.toContain('"pool":"local"');

    await finance.goto('/finance');
    await finance.locator('[data-test="report-query"]').waitFor();
    await finance.click('[data-test="report-scope"]');
    await finance.locator('.el-select-dropdown__item:visible', { hasText: /^VDC$/ }).click();
    await finance.click('[data-test="report-id"]');
    await finance.locator('.el-select-dropdown__item:visible', { hasText: /^Day one VDC$/ }).click();
    await finance.click('[data-test="report-run"]');
    await finance.locator('[data-test="report-total"]').waitFor();
    await shot(finance, 'empty-12-finance-report');
  });
});

/**
 * Approves `ticket` from the inbox: vdcadmin decides the first step; a chain with a further step (a larger
 * increase goes on to the operations admin) is decided by opsadmin from their inbox.
 */
async function approve(ticket: string, name: string): Promise<void> {
  for (const [who, comment] of [
    ['vdcadmin', 'day one: approved'],
    ['ops', 'day one: capacity is there'],
  ] as const) {
    const page = pageOf(who);
    await page.goto('/approvals');
    const link = page.locator(`[data-test="ticket-link-${ticket}"]`);
    await link.waitFor({ timeout: WAIT.workflow });
    await Promise.all([page.waitForURL(`**/tickets/${encodeURIComponent(ticket)}`), link.click()]);
    await page.locator('[data-test="decision-panel"]').waitFor();
    await page.fill('[data-test="decision-comment"]', comment);
    if (who === 'vdcadmin') await shot(page, name);
    await page.click('[data-test="approve-button"]');
    await expect.poll(() => page.locator('[data-test="decision-panel"]').count(), { timeout: WAIT.workflow }).toBe(0);
    // Either the chain is done or it moved on to its next step (someone else's).
    const read = async () =>
      (await (await page.request.get(`/api/tickets/${encodeURIComponent(ticket)}`)).json()) as { status: string; currentStep: number | null };
    await expect
      .poll(
        async () => {
          const t = await read();
          return t.status !== 'pending_approval' || (t.currentStep ?? 0) > 0;
        },
        { timeout: WAIT.workflow },
      )
      .toBe(true);
    if ((await read()).status !== 'pending_approval') return;
  }
}
