import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startApp, waitForApi, waitForWorker, type AppProcess } from '../../stack/lib/apps.ts';
import { appEnvFromProcess } from '../../stack/testing/env.ts';

/**
 * Shared e2e plumbing: the api + worker processes, Debian's headless Chromium, one browser context per
 * user (own cookie jar), the real OIDC login page, and whole-page screenshots under test-output/.
 */

export const BASE = process.env.EDGEPORT_PUBLIC_URL?.replace(/\/$/, '');
export const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
export const WAIT = { ui: 30_000, navigation: 60_000, workflow: 90_000 } as const;
/** The shared machine is slow to start the api under load (tsx compiles on start); allow for it. */
export const START_MS = 240_000;

export const USERS = {
  tenant: { username: 'tenant', password: 'demo-tenant-pass' },
  vdcadmin: { username: 'vdcadmin', password: 'demo-vdcadmin-pass' },
  opsadmin: { username: 'opsadmin', password: 'demo-opsadmin-pass' },
  finance: { username: 'finance', password: 'demo-finance-pass' },
  other: { username: 'other', password: 'demo-other-pass' },
} as const;
export type User = keyof typeof USERS;

/** Debian's headless Chromium with one context per page (own cookie jar). */
export interface E2eBrowser {
  browser: Browser;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface E2e extends E2eBrowser {
  /** What the api and worker processes printed (saved beside the screenshots when a run fails). */
  output(): string;
}

/** A Content-Security-Policy violation (or a console message about one) on a page of the portal's origin. */
export interface CspViolation {
  url: string;
  text: string;
}

/** Every violation the watched contexts saw, over the whole file (asserted empty when the browser closes). */
const violations: CspViolation[] = [];

/**
 * Watches a context for CSP trouble on the portal's own pages: `securitypolicyviolation` events (reported through
 * an exposed binding) and console messages naming the policy or a refused load. Other origins (the OpenID
 * provider's login page) are not ours and are ignored.
 */
export async function watchCsp(context: BrowserContext): Promise<void> {
  const ours = (url: string): boolean => !!BASE && url.startsWith(BASE);
  await context.exposeBinding('__edgeportCspViolation', (_source, v: CspViolation) => {
    if (ours(v.url)) violations.push(v);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (globalThis as unknown as { __edgeportCspViolation?: (v: { url: string; text: string }) => void }).__edgeportCspViolation;
      void report?.({ url: document.URL, text: `${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}` });
    });
  });
  context.on('console', (msg) => {
    const url = msg.page()?.url() ?? '';
    if (ours(url) && /Content Security Policy|Refused to (load|execute|apply|frame|connect|evaluate)/i.test(msg.text()))
      violations.push({ url, text: msg.text() });
  });
}

/** Fails when any watched page of the portal saw a CSP violation; `launchBrowser().close()` calls it. */
export function assertNoCspViolations(): void {
  if (violations.length) throw new Error(`Content-Security-Policy violations:\n${violations.map((v) => `${v.url}: ${v.text}`).join('\n')}`);
}

/** Launches Chromium; each `newPage` gets its own context (a user of its own), watched for CSP violations. */
export async function launchBrowser(): Promise<E2eBrowser> {
  mkdirSync(SHOTS, { recursive: true });
  const contexts: BrowserContext[] = [];
  const browser = await chromium.launch({
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
  return {
    browser,
    async newPage(): Promise<Page> {
      const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', viewport: { width: 1440, height: 900 } });
      contexts.push(context);
      await watchCsp(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT.ui);
      page.setDefaultNavigationTimeout(WAIT.navigation);
      return page;
    },
    async close(): Promise<void> {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      assertNoCspViolations();
    },
  };
}

/** Starts api + worker against the running test stack and launches Chromium. */
export async function startE2e(): Promise<E2e> {
  if (!BASE) throw new Error('EDGEPORT_PUBLIC_URL is not set: run through `npm test`, which starts the stack and exports it');
  const repoDir = fileURLToPath(new URL('../../', import.meta.url));
  const apps: AppProcess[] = [startApp(repoDir, 'worker', appEnvFromProcess()), startApp(repoDir, 'api', appEnvFromProcess())];
  await Promise.all([waitForWorker(apps[0]!, START_MS), waitForApi(apps[1]!, BASE, START_MS)]);
  const b = await launchBrowser();
  return {
    ...b,
    output: () => apps.map((a) => `--- ${a.name}\n${a.output()}`).join('\n'),
    async close(): Promise<void> {
      await b.close();
      await Promise.all(apps.map((a) => a.stop()));
    },
  };
}

/** Opens `path` as `user` through the provider's login page; comes back to `path` signed in. */
export async function openAs(page: Page, user: User, path: string): Promise<void> {
  // The SPA redirects to the login page before its own load event: wait for the login form, not for load.
  await page.goto(path, { waitUntil: 'commit' });
  await page.locator('#username').waitFor({ timeout: WAIT.navigation });
  await page.fill('#username', USERS[user].username);
  await page.fill('#password', USERS[user].password);
  await Promise.all([page.waitForURL((url) => url.pathname + url.search === path, { timeout: WAIT.navigation, waitUntil: 'commit' }), page.click('#login')]);
  await page.locator('[data-test="user-name"]').waitFor({ timeout: WAIT.navigation });
}

/** The layout scrolls inside el-main, so grow the viewport to the content for a whole-page picture. */
export async function shot(page: Page, name: string): Promise<void> {
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

/** The error message an el-form-item (by data-test) shows for itself. */
export function fieldError(page: Page, item: string) {
  return page.locator(`[data-test="${item}"] > .el-form-item__content > .el-form-item__error`).first();
}

export async function waitForStatus(page: Page, status: RegExp | string, timeout: number): Promise<string> {
  const tag = page.locator('[data-test="ticket-status"]');
  const wanted = typeof status === 'string' ? new RegExp(`^\\s*${status}\\s*$`) : status;
  await tag.filter({ hasText: wanted }).waitFor({ timeout });
  return (await tag.innerText()).trim();
}

export async function chooseVdc(page: Page, id: string): Promise<void> {
  await page.click('[data-test="vdc-select"]');
  await page.click(`[data-test="vdc-option-${id}"]`);
}

/** The ticket id of the ticket page the browser shows. */
export function ticketIdOf(page: Page): string {
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
}
