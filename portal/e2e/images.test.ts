import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../infra/kube/client.ts';
import { cosignSignatureTag } from '../../infra/registry/driver.ts';
import { createRegistryRuntime, type RegistryRuntime } from '../../infra/registry/runtime.ts';
import { loginAs } from '../../api/auth/test-login.ts';
import { demoUserByUsername } from '../../stack/oidc/demo-users.ts';
import { grant, seedVdc } from '../../stack/seed.ts';
import { stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { buildImage, pushImage } from '../../stack/testing/oci-image.ts';
import { openStore, type Store } from '../../store/index.ts';
import { BASE, chooseVdc, openAs, shot, SHOTS, START_MS, startE2e, WAIT, type E2e } from './support.ts';

/**
 * The images view in headless Chromium against the real stack: images pushed to the real registry (scanned on
 * push through the registry's notification), repositories grouped by category with tags, architectures, scan
 * and signature; copy the pull command, delete a tag (confirmed), request publishing a staging image (ticket),
 * the image picker of the workload deploy form; screenshots in English and Chinese.
 */
let e2e: E2e;
let store: Store;
let rt: RegistryRuntime;
const vdcId = uniqueName('e2eimg');
const cookies: Record<string, string> = {};
const category = `Web ${vdcId.slice(-4)}`;
const DPKG = (pkgs: [string, string][]): string => pkgs.map(([p, v]) => `Package: ${p}\nStatus: install ok installed\nVersion: ${v}\n`).join('\n');
const clean = [
  {
    'var/lib/dpkg/status': DPKG([
      ['openssl', '3.0.15-1~deb12u1'],
      ['bash', '5.2.15-2'],
    ]),
  },
];
const vulnerable = [{ 'var/lib/dpkg/status': DPKG([['openssl', '3.0.11-1~deb12u2']]) }];

async function call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { cookie: cookies[user] ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function scanned(repository: string): Promise<void> {
  const deadline = Date.now() + WAIT.workflow;
  while (Date.now() < deadline) {
    const r = await call('vdcadmin', 'GET', `/api/images/detail?repository=${repository}&reference=v1`);
    if (r.status === 200 && r.body.scan) return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(`${repository} not scanned on push`);
}

beforeAll(async () => {
  e2e = await startE2e();
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  rt = createRegistryRuntime({
    url: stackEnv('EDGEPORT_REGISTRY_URL'),
    tokenKeyFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_KEY_FILE'),
    tokenCertFile: stackEnv('EDGEPORT_REGISTRY_TOKEN_CERT_FILE'),
  });
  const kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
  await seedVdc(store, kube, { id: vdcId, name: 'Images e2e VDC', domainId: 'e2eimg-domain', quota: { cpu: 4, memoryGi: 8, pods: 10 } });
  await grant(store, demoUserByUsername('tenant')!, [{ role: 'vdc-user', scope: { type: 'vdc', vdcId } }]);
  await grant(store, demoUserByUsername('vdcadmin')!, [{ role: 'vdc-admin', scope: { type: 'vdc', vdcId } }]);
  for (const u of ['tenant', 'vdcadmin']) cookies[u] = await loginAs(BASE!, u, demoUserByUsername(u)!.password);
  await pushImage(rt.driver, `staging-${vdcId}/web`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: clean }));
  const { digest } = await pushImage(rt.driver, `vdc-${vdcId}/api`, 'v1', buildImage({ archs: ['amd64', 'arm64'], layers: clean }));
  await pushImage(rt.driver, `vdc-${vdcId}/api`, cosignSignatureTag(digest), buildImage({ archs: ['amd64'], layers: [{ 'sig.json': '{}' }] }));
  await pushImage(rt.driver, `vdc-${vdcId}/legacy`, 'v1', buildImage({ archs: ['amd64'], layers: vulnerable }));
  for (const r of [`staging-${vdcId}/web`, `vdc-${vdcId}/api`, `vdc-${vdcId}/legacy`]) await scanned(r);
  const cat = await call('vdcadmin', 'POST', '/api/images/categories', { name: category, vdcId });
  expect(cat.status).toBe(201);
  expect((await call('vdcadmin', 'PUT', '/api/images/repository-categories', { repository: `vdc-${vdcId}/api`, categoryIds: [cat.body.id] })).status).toBe(200);
}, START_MS + 180_000);

afterAll(async () => {
  if (e2e) writeFileSync(`${SHOTS}../e2e-images-apps.log`, e2e.output());
  await e2e?.close();
  await store?.close();
});

/** Dialogs and message boxes have faded in (a screenshot mid-transition shows them washed out). */
async function settled(page: Page): Promise<void> {
  await page.locator('.dialog-fade-enter-active, .fade-in-linear-enter-active, .msgbox-fade-enter-active').first().waitFor({ state: 'detached' });
}

const repoRow = (page: Page, name: string) =>
  page.locator('[data-test="img-repos"] > .el-table__inner-wrapper > .el-table__body-wrapper .el-table__row', { hasText: name }).first();

async function expand(page: Page, name: string): Promise<void> {
  await repoRow(page, name).locator('.el-table__expand-icon').click();
  await page.locator('[data-test="img-tags"]').first().waitFor();
}

describe('images view', () => {
  let page: Page;

  it('lists repositories by category with tags, architectures, scan, signature and the pull command', async () => {
    page = await e2e.newPage();
    await openAs(page, 'vdcadmin', '/images');
    await page.locator('[data-test="menu-images"]').waitFor();
    await page.click('[data-test="img-vdc"]');
    await page.click(`.el-select-dropdown__item:has-text("(${vdcId})")`);
    await repoRow(page, `vdc-${vdcId}/api`).waitFor();
    const group = page.locator(`[data-test="img-groups"] .el-collapse-item`, { hasText: category });
    expect(await group.innerText()).toContain(`vdc-${vdcId}/api`);
    await expand(page, `vdc-${vdcId}/api`);
    const tags = await page.locator('[data-test="img-tags"]').first().innerText();
    expect(tags).toContain('v1');
    expect(tags).toMatch(/amd64[\s\S]*arm64/);
    expect(tags).toContain('Clean');
    expect(await page.locator('[data-test="img-scan"][data-severity="None"]').first().innerText()).toBe('Clean');
    expect(tags).toContain('Signed');
    expect(tags).not.toContain('.sig');
    expect(await page.locator('[data-test="img-pull"]').first().innerText()).toMatch(new RegExp(`^docker pull .+/vdc-${vdcId}/api:v1$`));
    await expand(page, `vdc-${vdcId}/legacy`);
    expect(await page.locator('[data-test="images"]').innerText()).toContain('Critical');
    await shot(page, 'images-01-by-category');
  });

  it('deletes a tag after confirmation', async () => {
    const row = page.locator('[data-test="img-tags"] .el-table__row', { hasText: 'Critical' }).first();
    await row.locator('[data-test="img-delete"]').click();
    await page.locator('.el-message-box').waitFor();
    await settled(page);
    await shot(page, 'images-02-delete-confirm');
    await page.click('.el-message-box__btns .el-button--primary');
    await page.locator('.el-message--success').waitFor({ timeout: WAIT.workflow });
    await expect.poll(async () => repoRow(page, `vdc-${vdcId}/legacy`).count(), { timeout: WAIT.ui }).toBe(0);
  });

  it('a VDC member requests publishing a staging image: the image-publish ticket is created', async () => {
    const tenant = await e2e.newPage();
    await openAs(tenant, 'tenant', '/images');
    await repoRow(tenant, `staging-${vdcId}/web`).waitFor();
    await expand(tenant, `staging-${vdcId}/web`);
    await tenant.locator('[data-test="img-publish"]').first().click();
    await tenant.locator('[data-test="publish-form"]').waitFor();
    await tenant.fill('[data-test="publish-reason"]', 'release 1 of the web front end');
    await settled(tenant);
    await shot(tenant, 'images-03-publish-dialog');
    await tenant.click('[data-test="publish-submit"]');
    await tenant.waitForURL(/\/tickets\/tkt-/, { timeout: WAIT.navigation });
    await tenant.locator('[data-test="ticket-status"]').waitFor();
    const id = decodeURIComponent(new URL(tenant.url()).pathname.split('/').pop() ?? '');
    const t = await call('tenant', 'GET', `/api/tickets/${id}`);
    expect(t.body).toMatchObject({ type: 'image-publish', payload: { source: { name: 'web', tag: 'v1' }, target: { visibility: 'private' } } });
  });

  it('the workload deploy form picks an image of the VDC through the image picker', async () => {
    const tenant = await e2e.newPage();
    await openAs(tenant, 'tenant', '/tickets/new/workload-deploy');
    await tenant.locator('[data-test="workload-form"]').waitFor();
    await chooseVdc(tenant, vdcId);
    await tenant.click('[data-test="image-picker-open"]');
    const dialog = tenant.locator('[data-test="image-picker-list"]');
    const row = dialog.locator('.el-table__row', { hasText: `vdc-${vdcId}/api:v1` });
    await row.waitFor();
    expect(await dialog.innerText()).not.toContain(`staging-${vdcId}`);
    await settled(tenant);
    await shot(tenant, 'images-04-picker');
    await row.locator('[data-test="image-picker-use"]').click();
    await expect.poll(async () => tenant.inputValue('[data-test="image-input"]'), { timeout: WAIT.ui }).toMatch(new RegExp(`/vdc-${vdcId}/api:v1$`));
    await shot(tenant, 'images-05-form-with-image');
  });

  it('renders the view and the picker in Chinese', async () => {
    await page.click('[data-test="lang-switch"]');
    await page.click('[data-test="lang-zh-CN"]');
    await page.goto('/images');
    await repoRow(page, `vdc-${vdcId}/api`).waitFor();
    await expand(page, `vdc-${vdcId}/api`);
    const text = await page.locator('[data-test="images"]').innerText();
    expect(text).toContain('镜像');
    expect(text).toContain('已签名');
    expect(text).toContain('拉取命令');
    expect(text).toContain('无漏洞');
    await shot(page, 'images-06-by-category-zh-CN');
    await page.goto('/tickets/new/workload-deploy');
    await page.locator('[data-test="workload-form"]').waitFor();
    await chooseVdc(page, vdcId);
    await page.click('[data-test="image-picker-open"]');
    await page.locator('[data-test="image-picker-list"] .el-table__row').first().waitFor();
    expect(await page.locator('[data-test="image-picker"]').first().innerText()).toContain('选择镜像');
    await settled(page);
    await shot(page, 'images-07-picker-zh-CN');
  });
});
