import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { assertNoCspViolations, watchCsp } from './support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../../stack/lib/apps.ts';
import { appEnvFromProcess, uniqueName } from '../../stack/testing/env.ts';

/**
 * The admin views end to end in Debian's headless Chromium against the real API, worker and OIDC login:
 * the operations admin creates a domain and a VDC, a custom role from part of the permission tree, opens
 * the resource pool overview and the audit log and verifies it. Screenshots go to
 * `test-output/screenshots/admin-*.png` (also one in zh-CN and one in dark mode).
 */

const BASE = process.env.EDGEPORT_PUBLIC_URL?.replace(/\/$/, '');
const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const OPS = { username: 'opsadmin', password: 'demo-opsadmin-pass' } as const;
const WAIT = 20_000;

let browser: Browser;
let context: BrowserContext;
let page: Page;
const apps: AppProcess[] = [];

async function openAsOps(path: string): Promise<void> {
  await page.goto(path);
  await page.locator('#username').waitFor();
  await page.fill('#username', OPS.username);
  await page.fill('#password', OPS.password);
  await Promise.all([page.waitForURL((url) => url.pathname === path, { timeout: WAIT }), page.click('#login')]);
  await page.locator('[data-test="user-name"]').waitFor();
}

/** The layout scrolls inside el-main, so grow the viewport to the content for a whole-page picture. */
async function shot(name: string): Promise<void> {
  // Settled first: no loading mask, no dialog or message transition half way.
  await expect.poll(() => page.locator('.el-loading-mask:visible').count(), { timeout: WAIT }).toBe(0);
  await page
    .waitForFunction(
      () => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity),
      undefined,
      { timeout: 3000 },
    )
    .catch(() => undefined);
  const size = page.viewportSize() ?? { width: 1440, height: 900 };
  const height = await page.evaluate(() => {
    const main = document.querySelector('.el-main');
    const header = document.querySelector('.el-header');
    return Math.ceil((main?.scrollHeight ?? 0) + (header?.getBoundingClientRect().height ?? 0));
  });
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, Math.min(height, 4000)) });
  await page.screenshot({ path: `${SHOTS}admin-${name}.png` });
  await page.setViewportSize(size);
}

/** Navigates through the side menu (client-side routing, as a person would). */
async function menu(test: string, view: string): Promise<void> {
  await page.click(`[data-test="${test}"]`);
  await page.locator(`[data-test="${view}"]`).waitFor();
}

describe('admin views as the operations admin', () => {
  const domainId = uniqueName('e2e-dom');
  const vdcId = uniqueName('e2e-vdc');
  const roleSlug = uniqueName('e2e-role');

  beforeAll(async () => {
    if (!BASE) throw new Error('EDGEPORT_PUBLIC_URL is not set: run through `stack/cli.ts test`, which starts the stack and exports it');
    mkdirSync(SHOTS, { recursive: true });
    const repoDir = fileURLToPath(new URL('../../', import.meta.url));
    const worker = startApp(repoDir, 'worker', appEnvFromProcess());
    const api = startApp(repoDir, 'api', appEnvFromProcess());
    apps.push(worker, api);
    await Promise.all([waitForWorker(worker), waitForApi(api, BASE)]);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    await watchCsp(context);
    page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await openAsOps('/admin/domains');
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    assertNoCspViolations();
    await Promise.all(apps.map((a) => a.stop()));
  });

  it('shows every admin entry in the side menu', async () => {
    for (const entry of ['menu-domains', 'menu-roles', 'menu-pools', 'menu-audit', 'menu-ip-lists', 'menu-tokens']) {
      await page.locator(`[data-test="${entry}"]`).waitFor();
    }
  });

  it('creates a domain, refusing a bad id first', async () => {
    await page.locator('[data-test="domains-table"]').waitFor();
    await page.click('[data-test="new-domain"]');
    await page.fill('[data-test="domain-id-input"]', 'Not_A_Label');
    await page.fill('[data-test="domain-name-input"]', 'E2E domain');
    await page.click('[data-test="domain-submit"]');
    await page.locator('[data-test="domain-id-item"] .el-form-item__error').waitFor();
    await shot('domain-form-error');
    await page.fill('[data-test="domain-id-input"]', domainId);
    await page.click('[data-test="domain-submit"]');
    await page.locator(`[data-test="domain-row-${domainId}"]`).waitFor();
  });

  it('creates a VDC in it and opens its detail', async () => {
    await page.click(`[data-test="new-vdc-${domainId}"]`);
    await page.fill('[data-test="vdc-id-input"]', vdcId);
    await page.fill('[data-test="vdc-name-input"]', 'E2E VDC');
    // The pool picker lists the registered pools (GET /api/pools); the first row is the primary pool.
    await page.click('[data-test="vdc-pool-0-select"]');
    await page.click('[data-test="vdc-pool-option-local"]');
    await page.fill('[data-test="vdc-cpu-input"] input', '4');
    await page.fill('[data-test="vdc-memoryGi-input"] input', '8');
    await page.fill('[data-test="vdc-pods-input"] input', '20');
    await page.locator('[data-test="vdc-pods-input"] input').blur();
    await shot('vdc-form');
    await page.click('[data-test="vdc-submit"]');
    await page
      .locator('[data-test="vdc-form"]')
      .waitFor({ state: 'detached' })
      .catch(async (err: unknown) => {
        await shot('vdc-form-refused');
        throw err;
      });

    const row = page.locator('tr', { has: page.locator(`[data-test="domain-row-${domainId}"]`) });
    await row.locator('.el-table__expand-icon').click();
    const link = page.locator(`[data-test="vdc-link-${vdcId}"]`);
    await link.waitFor();
    await shot('domains');

    await link.click();
    await page.locator('[data-test="vdc-info"]').waitFor();
    expect(await page.locator('[data-test="vdc-info"]').innerText()).toContain(`vdc-${vdcId}`);
    // Its pools with quota and usage (read with the pool's read-only identity), and its provisioning state.
    const pools = page.locator('[data-test="vdc-pools-table"]');
    await pools.locator('.el-table__row').first().waitFor();
    expect(await pools.innerText()).toContain('local');
    await expect.poll(() => page.locator('[data-test="vdc-pool-local-cpu"]').innerText(), { timeout: WAIT }).toMatch(/4 cores/);
    await page.locator('[data-test="members-table"]').waitFor();
    await page.click('[data-test="member-user-select"]');
    await page.keyboard.type('tenant');
    await page.click('[data-test="user-option-tenant"]');
    await page.click('[data-test="member-roles-select"]');
    await page.click('[data-test="role-option-vdc-user"]');
    await page.keyboard.press('Escape');
    await page.click('[data-test="add-member-form"] button[type="submit"]');
    await page.locator('[data-test="remove-member-u-tenant"]').waitFor();
    await shot('vdc-detail');
  });

  it('refuses to delete the domain while it holds the VDC, naming the reason', async () => {
    await menu('menu-domains', 'domains-table');
    await page.click(`[data-test="delete-domain-${domainId}"]`);
    await page.locator('.el-message-box').getByRole('button', { name: 'Delete' }).click();
    const conflict = page.locator('[data-test="conflict"]');
    await conflict.waitFor();
    expect(await conflict.innerText()).toContain(vdcId);
  });

  it('creates a custom role from part of the permission tree', async () => {
    await menu('menu-roles', 'roles-table');
    await page.locator('[data-test="role-row-ops-admin"]').waitFor();
    await page.click('[data-test="new-role"]');
    await page.fill('[data-test="role-id-input"]', roleSlug);
    await page.fill('[data-test="role-name-input"]', 'E2E auditor');
    await page.click('[data-test="role-base-select"]');
    await page.click('[data-test="base-option-vdc-user"]');
    for (const key of ['audit:read', 'pool:read', 'vdc:read']) {
      await page
        .locator('.el-tree-node__content', { has: page.locator(`[data-test="perm-${key}"]`) })
        .locator('.el-checkbox')
        .click();
    }
    await expect.poll(() => page.locator('.el-tree-node__content .el-checkbox.is-checked').count()).toBeGreaterThanOrEqual(3);
    await shot('role-form');
    await page.click('[data-test="role-submit"]');
    const row = page.locator(`[data-test="role-row-custom:${roleSlug}"]`);
    await row.waitFor();
    const tr = page.locator('tr', { has: row });
    expect(await tr.innerText()).toContain('Read and verify the audit log');
    await shot('roles');
  });

  it('opens the resource pools and the local pool overview with its nodes', async () => {
    await menu('menu-pools', 'pools-table');
    await page.locator('[data-test="pool-link-local"]').waitFor();
    await shot('pools');
    await page.click('[data-test="pool-link-local"]');
    await page.locator('[data-test="node-counts"]').waitFor();
    await page.locator('[data-test="nodes-table"] .el-table__row').first().waitFor();
    expect(Number(await page.locator('[data-test="count-total"] .el-statistic__number').innerText())).toBeGreaterThan(0);
    // The VDCs on the pool with their quota and usage there, the one made above among them.
    await page.locator(`[data-test="pool-vdc-${vdcId}"]`).waitFor();
    await shot('pool-overview');
  });

  it('pages the audit log, filters it and verifies the chain', async () => {
    await menu('menu-audit', 'audit-table');
    await page.locator('[data-test="audit-table"] .el-table__row').first().waitFor();
    await page.fill('[data-test="filter-action"]', 'domain.create');
    await page.click('[data-test="audit-search"]');
    await expect.poll(() => page.locator('[data-test="audit-table"] .el-table__row').first().innerText()).toContain('domain.create');
    await page.fill('[data-test="filter-action"]', '');
    await page.click('[data-test="audit-search"]');
    expect(await page.locator('[data-test="export-csv"]').getAttribute('href')).toBe('/api/audit/export?format=csv');
    await page.click('[data-test="verify-button"]');
    await page.locator('[data-test="verify-ok"]').waitFor();
    await shot('audit');
  });

  it('creates an API token shown once, and shows the IP lists', async () => {
    await menu('menu-tokens', 'tokens-table');
    await page.click('[data-test="new-token"]');
    await page.fill('[data-test="token-name-input"]', 'e2e token');
    await page
      .locator('.el-tree-node__content', { has: page.locator('[data-test="perm-audit:read"]') })
      .locator('.el-checkbox')
      .click();
    await page.click('[data-test="token-submit"]');
    const token = page.locator('[data-test="created-token"]');
    await token.waitFor();
    expect(await token.inputValue()).toMatch(/^ep_[A-Za-z0-9_-]{43}$/);
    await shot('token-created');
    await page.click('[data-test="token-done"]');
    await page.locator('[data-test="tokens-table"]', { hasText: 'e2e token' }).waitFor();
    await shot('tokens');
    await menu('menu-ip-lists', 'ip-lists-view');
    await page.locator('[data-test="client-address"]').waitFor();
    await shot('ip-lists');
  });

  it('renders in zh-CN and in dark mode', async () => {
    await menu('menu-roles', 'roles-table');
    await page.click('[data-test="lang-switch"]');
    await page.click('[data-test="lang-zh-CN"]');
    await expect.poll(() => page.locator('[data-test="menu-roles"]').innerText()).toBe('角色');
    await page.locator(`[data-test="role-row-custom:${roleSlug}"]`).waitFor();
    await shot('roles-zh-CN');
    await page.click('[data-test="new-role"]');
    await page.locator('[data-test="perm-audit:read"]').filter({ hasText: '查看和校验审计日志' }).waitFor();
    await shot('role-form-zh-CN');
    await page.keyboard.press('Escape');

    await page.click('[data-test="lang-switch"]');
    await page.click('[data-test="lang-en"]');
    await page.click('[data-test="theme-switch"]');
    await expect.poll(() => page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
    await menu('menu-pools', 'pools-table');
    await page.click('[data-test="pool-link-local"]');
    await page.locator('[data-test="node-counts"]').waitFor();
    await shot('pool-overview-dark');
  });
});
