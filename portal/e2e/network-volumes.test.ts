import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkloadSpecSchema } from '../../common/workload.ts';
import { namespaceOf } from '../../stack/seed.ts';
import { stackEnv, uniqueName } from '../../stack/testing/env.ts';
import { openStore, type Store } from '../../store/index.ts';
import { openAs, shot, SHOTS, START_MS, startE2e, WAIT, type E2e } from './support.ts';

/**
 * Security groups and volumes in headless Chromium against the real stack: the VDC admin creates a group,
 * adds a rule and two member workloads and reads the rendered NetworkPolicy back; a tenant creates,
 * expands and deletes a volume. Screenshots in English and Chinese.
 */

let e2e: E2e;
let store: Store;
const ns = namespaceOf('demo');
const members = [uniqueName('e2e-front'), uniqueName('e2e-api')];
const group = uniqueName('e2e-sg');
const volume = uniqueName('e2e-vol');

async function pick(page: Page, select: string, option: string): Promise<void> {
  await page.click(`[data-test="${select}"]`);
  // Exact text: on a stack other tests ran on, the VDC has spaces whose namespaces start with this one.
  await page
    .locator('.el-select-dropdown__item:visible')
    .filter({ hasText: new RegExp(`^\\s*${option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) })
    .first()
    .click();
}

beforeAll(async () => {
  store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  for (const name of members) {
    await store.workloads.recordRevision({
      vdcId: 'demo',
      namespace: ns,
      name,
      kind: 'Deployment',
      revision: 1,
      spec: WorkloadSpecSchema.parse({ kind: 'Deployment', name, containers: [{ name: 'app', image: `registry.invalid/${name}:1` }] }),
      ticketId: `e2e-${name}`,
    });
  }
  e2e = await startE2e();
}, START_MS + 60_000);

afterAll(async () => {
  if (e2e) writeFileSync(`${SHOTS}../e2e-network-volumes-apps.log`, e2e.output());
  await e2e?.close();
  for (const name of members) await store?.testing.collection('workloads').deleteOne({ _id: `${ns}/${name}` as never });
  await store?.close();
});

describe('security groups in the portal', { timeout: 300_000 }, () => {
  it('VDC admin creates a group, adds a rule and two members, reads the rendered policy; en and zh-CN', async () => {
    const admin = await e2e.newPage();
    // The VDC by link: in a full run other tests make vdcadmin an admin of more VDCs, listed before demo.
    await openAs(admin, 'vdcadmin', '/network/security-groups?vdc=demo');
    await admin.locator('[data-test="sg-list"]').waitFor();
    await admin.click('[data-test="sg-new"]');
    await admin.fill('[data-test="sg-create-name"]', group);
    await admin.click('[data-test="sg-create-submit"]');
    await admin.locator('[data-test="sg-detail"]', { hasText: group }).waitFor();

    await admin.fill('[data-test="sg-cidr"]', '10.0.0.0/8');
    await admin.click('[data-test="sg-add-rule"]');
    await admin.click('[data-test="sg-save-rules"]');
    await admin.locator('.el-message--success').first().waitFor();
    await admin.locator('[data-test="sg-list"] .el-table__row', { hasText: group }).filter({ hasText: '1' }).waitFor();

    await admin.click('#tab-members');
    for (const name of members) {
      await pick(admin, 'sg-member-ns', ns);
      await admin.fill('[data-test="sg-member-name"]', name);
      await admin.click('[data-test="sg-add-member"]');
      await admin.locator('[data-test="sg-members"] .el-table__row', { hasText: name }).waitFor({ timeout: WAIT.workflow });
    }
    await shot(admin, '60-security-group-members');

    await admin.click('#tab-policies');
    const yaml = admin.locator('[data-test="sg-policies"] pre.yaml').first();
    await yaml.waitFor({ timeout: WAIT.workflow });
    const text = await yaml.innerText();
    expect(text).toContain('kind: NetworkPolicy');
    expect(text).toContain('10.0.0.0/8');
    for (const name of members) expect(text).toContain(name);
    await admin.click('#tab-rules');
    await shot(admin, '61-security-group-rules');
    await admin.click('#tab-policies');
    await yaml.waitFor({ timeout: WAIT.workflow });
    await shot(admin, '62-security-group-policies');

    await admin.click('[data-test="lang-switch"]');
    await admin.click('[data-test="lang-zh-CN"]');
    await admin.goto('/network/security-groups?vdc=demo');
    await admin.locator('[data-test="sg-list"] .el-table__row', { hasText: group }).click();
    await admin.locator('[data-test="sg-detail"]', { hasText: group }).waitFor();
    expect(await admin.locator('.el-tabs__item', { hasText: '成员' }).count()).toBe(1);
    await shot(admin, '63-security-group-zh');

    // Clean up through the UI: deleting the group removes its policies.
    await admin.click('[data-test="sg-delete"]');
    await admin.locator('.el-message-box__btns .el-button--primary').click();
    await admin.locator('[data-test="sg-list"] .el-table__row', { hasText: group }).waitFor({ state: 'detached', timeout: WAIT.workflow });
    await admin.close();
  });
});

describe('volumes in the portal', { timeout: 300_000 }, () => {
  it('tenant creates, expands and deletes a volume; en and zh-CN', async () => {
    const tenant = await e2e.newPage();
    await openAs(tenant, 'tenant', '/volumes?vdc=demo');
    await tenant.locator('[data-test="vol-list"]').waitFor();
    await tenant.click('[data-test="vol-new"]');
    await tenant.fill('[data-test="vol-name"]', volume);
    await tenant.fill('[data-test="vol-size"]', '1Gi');
    await tenant.click('[data-test="vol-create-submit"]');
    const row = tenant.locator('[data-test="vol-list"] .el-table__row', { hasText: volume });
    await row.waitFor({ timeout: WAIT.workflow });
    // Wait until the claim is bound (kwok binds it), then grow it.
    for (let i = 0; i < 60 && !(await row.innerText()).includes('Bound'); i++) {
      await tenant.waitForTimeout(1000);
      await tenant.click('button:has-text("Refresh")');
      await tenant
        .locator('[data-test="vol-list"] .el-loading-mask')
        .waitFor({ state: 'detached' })
        .catch(() => undefined);
    }
    expect(await row.innerText()).toContain('Bound');
    await tenant.click(`[data-test="vol-expand-${volume}"]`);
    await tenant.fill('[data-test="vol-new-size"]', '512Mi');
    await tenant.click('[data-test="vol-expand-submit"]');
    await tenant.locator('[data-test="vol-expand-error"]', { hasText: 'can only grow' }).waitFor();
    await shot(tenant, '64-volume-expand-refused');
    await tenant.fill('[data-test="vol-new-size"]', '2Gi');
    await tenant.click('[data-test="vol-expand-submit"]');
    await row.filter({ hasText: '2Gi' }).waitFor({ timeout: WAIT.workflow });
    await shot(tenant, '65-volumes');

    await tenant.click('[data-test="lang-switch"]');
    await tenant.click('[data-test="lang-zh-CN"]');
    await tenant.goto('/volumes?vdc=demo');
    await row.waitFor();
    expect(await tenant.locator('[data-test="volumes"] h2').innerText()).toBe('存储卷');
    await shot(tenant, '66-volumes-zh');

    await tenant.click(`[data-test="vol-delete-${volume}"]`);
    await tenant.locator('.el-message-box__btns .el-button--primary').click();
    await row.waitFor({ state: 'detached', timeout: WAIT.workflow });
    await tenant.close();
  });
});
