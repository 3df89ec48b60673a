import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../stack/testing/env.ts';
import { openAs, shot, SHOTS, START_MS, startE2e, WAIT, type E2e } from './support.ts';

/**
 * The config center in headless Chromium against the real stack: the tenant creates a ConfigMap by file
 * import (the file read in the browser) and a Secret by form, sees only key names and sizes for the
 * Secret (never its value, not even in the edit dialog), deletes the ConfigMap after confirming, and
 * the view is screenshotted in English and Chinese.
 */

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, START_MS + 60_000);

afterAll(async () => {
  if (e2e) writeFileSync(`${SHOTS}../e2e-config-center-apps.log`, e2e.output());
  await e2e?.close();
});

const rowOf = (page: Page, kind: 'ConfigMap' | 'Secret', name: string) => page.locator(`[data-test="cc-list-${kind}"] .el-table__row`, { hasText: name });

/** The dialog is open and its fade-in is over (a screenshot mid-transition shows a washed-out dialog). */
async function dialogShown(page: Page): Promise<void> {
  await page.locator('[data-test="cc-dialog"]').waitFor();
  await page.locator('.dialog-fade-enter-active').waitFor({ state: 'detached' });
}

describe('config center', { timeout: 300_000 }, () => {
  it('tenant creates a ConfigMap from a file and a Secret by form; the Secret value is never shown', async () => {
    const cmName = uniqueName('e2e-cm');
    const secretName = uniqueName('e2e-sec');
    const value = `e2e-${randomBytes(12).toString('hex')}`;
    const page = await e2e.newPage();
    await openAs(page, 'tenant', '/config-center?vdc=demo');
    await page.locator('[data-test="config-center"]').waitFor();
    await page.click('[data-test="cc-vdc"]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '(demo)' }).click();
    await page.locator('[data-test="cc-list-ConfigMap"]').waitFor();

    // ConfigMap by file import: each file becomes one key named after it.
    await page.click('[data-test="cc-new-configmap"]');
    await page.locator('[data-test="cc-name"]').fill(cmName);
    await page.click('[data-test="cc-mode-file"]');
    await page.locator('[data-test="cc-upload"] input[type="file"]').setInputFiles([
      { name: 'app.properties', mimeType: 'text/plain', buffer: Buffer.from('mode=prod\nlevel=info\n') },
      { name: 'logo.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0, 159, 146, 150, 255]) },
    ]);
    await page.locator('[data-test="cc-imported"] .el-table__row').nth(1).waitFor();
    await dialogShown(page);
    await shot(page, 'config-center-01-import-en');
    await page.click('[data-test="cc-save"]');
    await rowOf(page, 'ConfigMap', cmName).waitFor({ timeout: WAIT.workflow });
    const cmRow = await rowOf(page, 'ConfigMap', cmName).innerText();
    expect(cmRow).toContain('app.properties');
    expect(cmRow).toContain('logo.bin');

    // Secret by form: the value is typed into a password field and never comes back.
    await page.click('#tab-Secret');
    await page.click('[data-test="cc-new-secret"]');
    await page.locator('[data-test="cc-name"]').fill(secretName);
    await page.locator('[data-test="cc-key-0"]').fill('password');
    await page.locator('[data-test="cc-value-0"]').fill(value);
    await page.click('[data-test="cc-save"]');
    await rowOf(page, 'Secret', secretName).waitFor({ timeout: WAIT.workflow });
    expect(await rowOf(page, 'Secret', secretName).innerText()).toContain('password');
    await page.locator('[data-test="cc-dialog"]').waitFor({ state: 'hidden' });
    await shot(page, 'config-center-02-secrets-en');
    await page.click(`[data-test="cc-edit-${secretName}"]`);
    expect(await page.locator('[data-test="cc-value-0"]').inputValue()).toBe('');
    await dialogShown(page);
    await shot(page, 'config-center-03-secret-edit-en');
    expect(await page.content()).not.toContain(value);
    await page.keyboard.press('Escape');

    // Delete the ConfigMap after confirming.
    await page.click('#tab-ConfigMap');
    await page.click(`[data-test="cc-delete-${cmName}"]`);
    await page.locator('.el-message-box__btns .el-button--primary').click();
    await rowOf(page, 'ConfigMap', cmName).waitFor({ state: 'detached', timeout: WAIT.workflow });

    await page.click('[data-test="lang-switch"]');
    await page.click('[data-test="lang-zh-CN"]');
    await page.click('#tab-Secret');
    await rowOf(page, 'Secret', secretName).waitFor();
    expect(await page.locator('[data-test="config-center"] h2').innerText()).toBe('配置中心');
    await shot(page, 'config-center-04-secrets-zh');
    await page.click('[data-test="cc-new-configmap"]');
    await page.locator('[data-test="cc-rows"]').waitFor();
    await dialogShown(page);
    await shot(page, 'config-center-05-new-configmap-zh');
    expect(await page.content()).not.toContain(value);
    await page.close();
  });
});
