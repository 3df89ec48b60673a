import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { assertNoCspViolations, watchCsp } from './support.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, waitForApi, type AppProcess } from '../../stack/lib/apps.ts';
import { demoUserByUsername } from '../../stack/oidc/demo-users.ts';
import { appEnvFromProcess, stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { openStore, type Store } from '../../store/index.ts';
import type { User } from '../../common/roles.ts';

/**
 * Members by name in Debian's headless Chromium against the real API and OIDC login: the operations admin adds
 * `tenant` to a VDC through the user search and invites an email (shown as pending); a user without any role
 * sees the "no access yet" page with their username. Screenshots: `test-output/screenshots/members-*.png`.
 */

const BASE = process.env.EDGEPORT_PUBLIC_URL?.replace(/\/$/, '');
const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const WAIT = 20_000;

let browser: Browser;
let store: Store;
let api: AppProcess;
let saved: User | null = null;
const vdcId = uniqueName('e2e-ubn');
const invitee = `${uniqueName('invitee')}@example.com`;

async function signIn(page: Page, username: string, path: string): Promise<void> {
  await page.goto(path);
  await page.locator('#username').waitFor();
  await page.fill('#username', username);
  await page.fill('#password', demoUserByUsername(username)!.password);
  await Promise.all([page.waitForURL((url) => url.pathname === path, { timeout: WAIT }), page.click('#login')]);
}

async function shot(page: Page, name: string): Promise<void> {
  await expect.poll(() => page.locator('.el-loading-mask:visible').count(), { timeout: WAIT }).toBe(0);
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${SHOTS}members-${name}.png`, fullPage: true });
}

beforeAll(async () => {
  if (!BASE) throw new Error('EDGEPORT_PUBLIC_URL is not set: run through `stack/cli.ts test`, which starts the stack and exports it');
  mkdirSync(SHOTS, { recursive: true });
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  saved = await store.users.get('u-other');
  const domainId = uniqueName('e2e-ubn');
  await store.domains.create({ _id: domainId, name: domainId });
  await store.vdcs.create({
    _id: vdcId,
    name: 'Members by name',
    domainId,
    namespace: `vdc-${vdcId}`,
    namespaceStatus: 'requested',
    pool: 'local',
    quota: { cpu: 2, memoryGi: 4, pods: 10 },
  });
  api = startApp(fileURLToPath(new URL('../../', import.meta.url)), 'api', appEnvFromProcess());
  await waitForApi(api, BASE, 300_000);
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
}, 400_000);

afterAll(async () => {
  await browser?.close();
  assertNoCspViolations();
  if (saved) await store.users.upsert(saved).catch(() => undefined);
  await store?.testing
    .collection('pendingbindings')
    .deleteMany({ scopeKey: `vdc:${vdcId}` })
    .catch(() => undefined);
  await api?.stop();
  await store?.close();
});

describe('members by name', () => {
  it('adds a member through the user search and invites an email, shown as pending', async () => {
    const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    await watchCsp(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await signIn(page, 'opsadmin', `/admin/vdcs/${vdcId}`);
    await page.locator('[data-test="members-table"]').waitFor();

    const picker = page.locator('[data-test="member-user-select"]');
    await picker.click();
    await page.keyboard.type('tin');
    await page.locator('[data-test="user-option-tenant"]').waitFor();
    await shot(page, 'search');
    await page.click('[data-test="user-option-tenant"]');
    await page.click('[data-test="member-roles-select"]');
    await page.click('[data-test="role-option-vdc-user"]');
    await page.keyboard.press('Escape');
    await page.click('[data-test="add-member-form"] button[type="submit"]');
    await page.locator('[data-test="remove-member-u-tenant"]').waitFor();

    await picker.click();
    await page.keyboard.type(invitee);
    await page.keyboard.press('Enter');
    await page.click('[data-test="member-roles-select"]');
    await page.click('[data-test="role-option-vdc-admin"]');
    await page.keyboard.press('Escape');
    await page.click('[data-test="add-member-form"] button[type="submit"]');
    await page.locator(`[data-test="pending-tag-${invitee}"]`).waitFor();
    expect(await page.locator('[data-test="pending-table"]').innerText()).toContain(invitee);
    await shot(page, 'pending');
    await context.close();
  });

  it('a VDC admin adds a member by whole username: no listing by fragment, no names or emails of other users', async () => {
    const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    await watchCsp(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await signIn(page, 'vdcadmin', '/admin/vdcs/demo');
    await page.locator('[data-test="members-table"]').waitFor();
    const picker = page.locator('[data-test="member-user-select"]');
    await picker.click();
    await page.keyboard.type('ten');
    await page.waitForTimeout(1500);
    expect(await page.locator('[data-test="user-option-tenant"]').count()).toBe(0);
    await page.keyboard.type('ant');
    const option = page.locator('[data-test="user-option-tenant"]');
    await option.waitFor();
    expect(await option.innerText()).not.toContain('@');
    await shot(page, 'vdcadmin-lookup');
    await option.click();
    // tenant is already a vdc-user of demo: the same role again changes nothing.
    await page.click('[data-test="member-roles-select"]');
    await page.click('[data-test="role-option-vdc-user"]');
    await page.keyboard.press('Escape');
    await page.click('[data-test="add-member-form"] button[type="submit"]');
    await page.locator('.el-message--success').waitFor();
    expect(await store.users.bindings('u-tenant')).toContainEqual({ role: 'vdc-user', scope: { type: 'vdc', vdcId: 'demo' } });
    await context.close();
  });

  it('a user without any role sees "no access yet" with their username', async () => {
    await store.testing.collection('users').deleteOne({ _id: 'u-other' as never });
    const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    await watchCsp(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await signIn(page, 'other', '/dashboard');
    await page.locator('[data-test="no-access"]').waitFor();
    expect(await page.locator('[data-test="no-access-user"]').innerText()).toContain('other');
    expect(await page.locator('.el-message--error').count()).toBe(0);
    await shot(page, 'no-access');
    await context.close();
  });

  it('logs out by POST only: a GET of /auth/logout (a link from another site) keeps the session, the button ends it', async () => {
    const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
    await watchCsp(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await signIn(page, 'opsadmin', `/admin/vdcs/${vdcId}`);
    const viaGet = await context.request.get('/auth/logout', { maxRedirects: 0 });
    expect(viaGet.status()).toBe(405);
    expect((await context.request.get('/api/me')).status()).toBe(200);
    await page.click('[data-test="logout"]');
    // The provider's end-session page sends the browser back to the portal, which has no session: the login form.
    await page.locator('#username').waitFor({ timeout: 60_000 });
    expect((await context.request.get('/api/me')).status()).toBe(401);
    await context.close();
  });
});
