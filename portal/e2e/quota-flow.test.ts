import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { assertNoCspViolations, watchCsp } from './support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../../stack/lib/apps.ts';
import { appEnvFromProcess } from '../../stack/testing/env.ts';

/**
 * The quota-change walking skeleton end to end, in Debian's headless Chromium, against the running API
 * (which also serves the built portal) and its real OIDC login page. `stack/cli.ts test` starts the
 * stack and exports EDGEPORT_PUBLIC_URL; each user gets a fresh browser context (own cookie jar).
 */

const BASE = process.env.EDGEPORT_PUBLIC_URL?.replace(/\/$/, '');
const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

const USERS = {
  tenant: { username: 'tenant', password: 'demo-tenant-pass' },
  vdcadmin: { username: 'vdcadmin', password: 'demo-vdcadmin-pass' },
  other: { username: 'other', password: 'demo-other-pass' },
} as const;
type User = keyof typeof USERS;

const WAIT = { ui: 15_000, workflow: 90_000 } as const;

let browser: Browser;
const contexts: BrowserContext[] = [];
const apps: AppProcess[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
  await watchCsp(context);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT.ui);
  return page;
}

/**
 * Opens `path` in the portal as `user`: the portal finds no session (`/api/me` → 401), sends the browser
 * to `/auth/login?returnTo=path`, the provider's login page takes the password, and the browser comes
 * back to `path`.
 */
async function openAs(page: Page, user: User, path: string): Promise<void> {
  await page.goto(path);
  await page.locator('#username').waitFor();
  await page.fill('#username', USERS[user].username);
  await page.fill('#password', USERS[user].password);
  await Promise.all([page.waitForURL((url) => url.pathname === path, { timeout: WAIT.ui }), page.click('#login')]);
  await page.locator('[data-test="user-name"]').waitFor();
}

/** The layout scrolls inside el-main, so grow the viewport to the content for a whole-page picture. */
async function shot(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? { width: 1440, height: 900 };
  const height = await page.evaluate(() => {
    const main = document.querySelector('.el-main');
    const header = document.querySelector('.el-header');
    return Math.ceil((main?.scrollHeight ?? 0) + (header?.getBoundingClientRect().height ?? 0));
  });
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, Math.min(height, 4000)) });
  await page.screenshot({ path: `${SHOTS}${name}.png` });
  await page.setViewportSize(size);
}

function fieldError(page: Page, item: string) {
  return page.locator(`[data-test="${item}"] .el-form-item__error`).first();
}

async function waitForStatus(page: Page, status: RegExp | string, timeout: number): Promise<string> {
  const tag = page.locator('[data-test="ticket-status"]');
  const wanted = typeof status === 'string' ? new RegExp(`^\\s*${status}\\s*$`) : status;
  await tag.filter({ hasText: wanted }).waitFor({ timeout });
  return (await tag.innerText()).trim();
}

describe('quota change: request → approve → applied', () => {
  let ticketId = '';
  let tenant: Page;

  beforeAll(async () => {
    if (!BASE) throw new Error('EDGEPORT_PUBLIC_URL is not set: run through `npm test`, which starts the stack and exports it');
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
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    assertNoCspViolations();
    await Promise.all(apps.map((a) => a.stop()));
  });

  it('tenant submits a quota change after fixing a refused value', async () => {
    tenant = await newPage();
    await openAs(tenant, 'tenant', '/tickets/new');
    await tenant.locator('[data-test="quota-form"]').waitFor();

    await tenant.click('[data-test="vdc-select"]');
    await tenant.click('[data-test="vdc-option-demo"]');
    await tenant.locator('[data-test="current-quota"]').waitFor();

    await tenant.fill('[data-test="cpu-input"] input', '-1');
    await tenant.locator('[data-test="cpu-input"] input').blur();
    const cpuError = fieldError(tenant, 'cpu-item');
    await cpuError.waitFor();
    expect((await cpuError.innerText()).trim()).not.toBe('');
    await shot(tenant, '01-new-request-field-error');

    await tenant.fill('[data-test="cpu-input"] input', '6');
    await tenant.fill('[data-test="memoryGi-input"] input', '12');
    await tenant.fill('[data-test="pods-input"] input', '30');
    await tenant.fill('[data-test="reason-input"]', 'e2e: more build agents');
    await tenant.locator('[data-test="reason-input"]').blur();
    await cpuError.waitFor({ state: 'detached' });
    await shot(tenant, '02-new-request-filled');

    await Promise.all([tenant.waitForURL((url) => /^\/tickets\/(?!new$)[^/]+$/.test(url.pathname)), tenant.click('[data-test="submit-button"]')]);
    ticketId = decodeURIComponent(new URL(tenant.url()).pathname.split('/').pop() ?? '');
    expect(ticketId).not.toBe('');

    expect(await waitForStatus(tenant, 'pending_approval', WAIT.workflow)).toBe('pending_approval');
    await tenant.locator('[data-test="approval-steps"]').waitFor();
    expect(await tenant.locator('[data-test="approve-button"]').count()).toBe(0);
    await shot(tenant, '03-ticket-pending-approval');

    await tenant.goto('/tickets');
    await tenant.locator(`[data-test="ticket-link-${ticketId}"]`).waitFor();
    await shot(tenant, '04-my-tickets');
  });

  it('vdc admin approves it from the inbox', async () => {
    expect(ticketId).not.toBe('');
    const admin = await newPage();
    await openAs(admin, 'vdcadmin', '/approvals');
    await admin.locator('[data-test="menu-inbox"]').waitFor();
    const link = admin.locator(`[data-test="ticket-link-${ticketId}"]`);
    await link.waitFor();
    await shot(admin, '05-approvals-inbox');

    await Promise.all([admin.waitForURL(`**/tickets/${encodeURIComponent(ticketId)}`), link.click()]);
    await admin.locator('[data-test="decision-panel"]').waitFor();
    await admin.fill('[data-test="decision-comment"]', 'e2e: approved, capacity is there');
    await shot(admin, '06-ticket-approver-view');
    await admin.click('[data-test="approve-button"]');

    const status = await waitForStatus(admin, /^\s*(approved|executing|completed)\s*$/, WAIT.workflow);
    expect(['approved', 'executing', 'completed']).toContain(status);
    await expect.poll(() => admin.locator('[data-test="decision-panel"]').count()).toBe(0);
  });

  it('tenant sees it applied, with the execution timeline', async () => {
    await tenant.goto(`/tickets/${encodeURIComponent(ticketId)}`);
    expect(await waitForStatus(tenant, 'completed', WAIT.workflow)).toBe('completed');
    await tenant.locator('[data-test="timeline"] .el-timeline-item').first().waitFor();
    expect(await tenant.locator('[data-test="timeline"] .el-timeline-item').count()).toBeGreaterThan(0);
    await expect.poll(() => tenant.locator('[data-test="approval-step-0"] .el-step__description').innerText()).toMatch(/\S/);
    await shot(tenant, '07-ticket-completed');
  });

  it('someone else typing the ticket URL sees "not found"', async () => {
    const other = await newPage();
    await openAs(other, 'other', `/tickets/${encodeURIComponent(ticketId)}`);
    await other.locator('[data-test="not-found"]').waitFor();
    expect(await other.locator('[data-test="ticket-status"]').count()).toBe(0);
    await shot(other, '08-ticket-not-found');
  });
});
