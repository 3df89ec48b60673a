import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthOf, versionForMonth } from '../../common/billing.ts';
import { uniqueName, stackEnv } from '../../stack/testing/env.ts';
import { openStore } from '../../store/index.ts';
import { chooseVdc, fieldError, openAs, shot, SHOTS, START_MS, startE2e, ticketIdOf, WAIT, waitForStatus, type E2e } from './support.ts';

/**
 * The portal's request, approval and finance views in headless Chromium against the real stack: a
 * workload deploy whose validation error is fixed in the form (client rule, then the YAML view), approved
 * by the VDC admin after reviewing the dry run; a quota change whose cost then shows in the finance
 * report; and screenshots of every main view in both languages.
 */

let e2e: E2e;
const workloadName = uniqueName('e2e-web');
let workloadTicket = '';
/** A kwok rollout takes seconds; allow for a loaded 2-CPU machine, well inside the workflow's 5-minute rollout timeout. */
const ROLLOUT_WAIT = 150_000;

/**
 * A price book in force this month, so the finance report has amounts. Published versions take effect
 * the month after publishing; this one is published "last month" straight through the store (test data).
 */
async function ensurePriceBookThisMonth(): Promise<void> {
  const store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
  try {
    const book = store.priceBooks;
    const now = new Date();
    // Ours must be the one in force: another test may have published the install's first version (in force
    // from the beginning, with prices too small to show amounts over the minutes this run has lasted).
    if (versionForMonth(await book.list(), monthOf(now))?.note === 'e2e: in force this month') return;
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15));
    await book.publish(
      {
        currency: 'CNY',
        note: 'e2e: in force this month',
        prices: [
          { resource: 'cpu', pool: '*', arch: '*', unitPrice: '60' },
          { resource: 'memory', pool: '*', arch: '*', unitPrice: '6' },
          { resource: 'pods', pool: '*', arch: '*', unitPrice: '0.6' },
        ],
      },
      { sub: 'e2e', name: 'e2e' },
      lastMonth,
    );
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  e2e = await startE2e();
  await ensurePriceBookThisMonth();
}, START_MS + 60_000);

afterAll(async () => {
  if (e2e) writeFileSync(`${SHOTS}../e2e-portal-views-apps.log`, e2e.output());
  await e2e?.close();
});

describe('finance sees the cost of a completed quota change', { timeout: 300_000 }, () => {
  it('tenant asks, vdc admin approves, finance reads the VDC report with amounts', async () => {
    const tenant = await e2e.newPage();
    await openAs(tenant, 'tenant', '/tickets/new');
    await tenant.locator('[data-test="quota-form"]').waitFor();
    await chooseVdc(tenant, 'demo');
    await tenant.fill('[data-test="cpu-input"] input', '6');
    await tenant.fill('[data-test="memoryGi-input"] input', '12');
    await tenant.locator('[data-test="memoryGi-input"] input').blur();
    await Promise.all([tenant.waitForURL((url) => /^\/tickets\/tkt-/.test(url.pathname)), tenant.click('[data-test="submit-button"]')]);
    const id = ticketIdOf(tenant);
    await waitForStatus(tenant, 'pending_approval', WAIT.workflow);

    const admin = await e2e.newPage();
    await openAs(admin, 'vdcadmin', `/tickets/${id}`);
    await admin.locator('[data-test="decision-panel"]').waitFor();
    await admin.click('[data-test="approve-button"]');
    expect(await waitForStatus(admin, 'completed', WAIT.workflow)).toBe('completed');

    const finance = await e2e.newPage();
    await openAs(finance, 'finance', '/finance');
    await finance.locator('[data-test="report-query"]').waitFor();
    await finance.click('[data-test="report-scope"]');
    await finance.locator('.el-select-dropdown__item:visible', { hasText: /^VDC$/ }).click();
    await finance.click('[data-test="report-id"]');
    await finance.locator('.el-select-dropdown__item:visible', { hasText: /^Demo VDC$/ }).click();
    // Until the VDC report is the one shown (a report shown before, e.g. the platform's, already has a total)
    // and it has an amount.
    await expect
      .poll(
        async () => {
          await finance.click('[data-test="report-run"]');
          await finance.locator('[data-test="report-total"]').waitFor();
          const total = await finance.locator('[data-test="report-total"]').innerText();
          const cells = await finance.locator('[data-test="report-lines"] .el-table__row td:first-child').allInnerTexts();
          return cells.length > 0 && cells.every((c) => c.trim() === 'demo') && /CNY [1-9]\d*\.\d\d|CNY 0\.(0[1-9]|[1-9]\d)/.test(total);
        },
        { timeout: WAIT.workflow, interval: 2_000 },
      )
      .toBe(true);
    await finance.locator('[data-test="chart-by-vdc"] canvas').waitFor();
    await shot(finance, '16-finance-report');

    await finance.click('#tab-pricebook');
    await finance.locator('[data-test="pricebook-versions"]').waitFor();
    await shot(finance, '17-finance-pricebook');
    await Promise.all([tenant.close(), admin.close(), finance.close()]);
  });
});

describe('screenshots of the main views', { timeout: 300_000 }, () => {
  it('dashboard, forms, delegations, in English and in Chinese', async () => {
    const admin = await e2e.newPage();
    await openAs(admin, 'vdcadmin', '/dashboard');
    await admin.locator('[data-test="quota-card"]').waitFor();
    await admin.locator('[data-test="cost-total"]').waitFor();
    await shot(admin, '20-dashboard');

    for (const type of ['quota-lease', 'space-create', 'space-delete', 'workload-rollback', 'node-join']) {
      await admin.goto(`/tickets/new/${type}`);
      await admin.locator('[data-test="type-chooser"]').waitFor();
      await admin.locator('form').first().waitFor();
      await shot(admin, `21-form-${type}`);
    }

    await admin.goto('/approvals/delegations');
    await admin.locator('[data-test="delegation-form"]').waitFor();
    await shot(admin, '22-delegations');

    await admin.click('[data-test="lang-switch"]');
    await admin.click('[data-test="lang-zh-CN"]');
    await admin.goto('/dashboard');
    await admin.locator('[data-test="quota-card"]').waitFor();
    expect(await admin.locator('[data-test="quota-card"]').innerText()).toContain('配额与用量');
    await shot(admin, '23-dashboard-zh');
    await admin.goto('/tickets/new/workload-deploy');
    await admin.locator('[data-test="workload-form"]').waitFor();
    expect(await admin.locator('[data-test="review-button"]').innerText()).toContain('预览工单');
    await shot(admin, '24-workload-form-zh');
    await admin.close();
  });
});

describe('workload deploy: a validation error fixed in the form, then approved', { timeout: 300_000 }, () => {
  let tenant: Page;

  it('tenant sees the image refused beside the field, fixes it, previews and submits', async () => {
    tenant = await e2e.newPage();
    await openAs(tenant, 'tenant', '/tickets/new/workload-deploy');
    await tenant.locator('[data-test="workload-form"]').waitFor();
    await chooseVdc(tenant, 'demo');
    await tenant.fill('[data-test="wl-name-input"]', workloadName);
    await tenant.fill('[data-test="image-input"]', 'nginx latest');
    await tenant.locator('[data-test="image-input"]').blur();
    await tenant.fill('[data-test="cpu-request-input"]', '100m');
    await tenant.fill('[data-test="memory-request-input"]', '64Mi');
    // The VDC namespace's ResourceQuota bounds limits and (unlike an application space) has no LimitRange
    // to default them: without limits the pods are refused at admission and the rollout never finishes.
    await tenant.fill('[data-test="cpu-limit-input"]', '200m');
    await tenant.fill('[data-test="memory-limit-input"]', '128Mi');
    await tenant.locator('[data-test="memory-request-input"]').blur();

    const imageError = fieldError(tenant, 'image-item');
    await imageError.waitFor();
    expect(await imageError.innerText()).toMatch(/image reference/);
    await tenant.click('[data-test="review-button"]');
    expect(await tenant.locator('[data-test="preview-dialog"]').isVisible()).toBe(false);
    await shot(tenant, '10-workload-field-error');

    await tenant.click('[data-test="view-yaml"]');
    await tenant.locator('[data-test="yaml-problems"]').waitFor();
    expect(await tenant.locator('[data-test="yaml-problems"]').innerText()).toContain('workload.containers[0].image');
    await shot(tenant, '11-workload-yaml-view');
    await tenant.click('[data-test="view-form"]');

    await tenant.fill('[data-test="image-input"]', 'nginx:1.27');
    await tenant.locator('[data-test="image-input"]').blur();
    await imageError.waitFor({ state: 'detached' });
    await tenant.click('[data-test="review-button"]');
    await tenant.locator('[data-test="preview-summary"]').waitFor();
    expect(await tenant.locator('[data-test="preview-summary"]').innerText()).toContain('nginx:1.27');
    await shot(tenant, '12-workload-preview');

    await Promise.all([tenant.waitForURL((url) => /^\/tickets\/tkt-/.test(url.pathname)), tenant.click('[data-test="confirm-submit"]')]);
    workloadTicket = ticketIdOf(tenant);
    expect(await waitForStatus(tenant, 'pending_approval', WAIT.workflow)).toBe('pending_approval');
    await tenant.locator('[data-test="dry-run-objects"]').waitFor();
  });

  it('vdc admin finds it in the inbox with its SLA, reviews the dry run and the chain reason, approves', async () => {
    const admin = await e2e.newPage();
    await openAs(admin, 'vdcadmin', '/approvals');
    const link = admin.locator(`[data-test="ticket-link-${workloadTicket}"]`);
    await link.waitFor();
    expect(await admin.locator(`[data-test="time-left-${workloadTicket}"]`).innerText()).toMatch(/left|overdue|no deadline/);
    await shot(admin, '13-inbox-sla');

    await Promise.all([admin.waitForURL(`**/tickets/${workloadTicket}`), link.click()]);
    await admin.locator('[data-test="decision-panel"]').waitFor();
    await admin.locator('[data-test="dry-run-ok"]').waitFor();
    expect(await admin.locator('[data-test="chain-reason"]').innerText()).toContain('workload');
    expect(await admin.locator('[data-test="dry-run-objects"]').innerText()).toContain(workloadName);
    await shot(admin, '14-workload-review');
    await admin.click('[data-test="approve-button"]');
    const status = await waitForStatus(admin, /^\s*(approved|executing|completed)\s*$/, WAIT.workflow);
    expect(['approved', 'executing', 'completed']).toContain(status);
  });

  it("the tenant's open ticket page follows the execution to completed, and the workload is listed", async () => {
    // No reload: the ticket page polls (with backoff) until a final status. Waiting for any final status
    // first makes a compensated rollout fail with its status, not with a bare timeout.
    const final = await waitForStatus(tenant, /^\s*(completed|failed|compensated|rejected|cancelled)\s*$/, ROLLOUT_WAIT);
    expect(final).toBe('completed');
    await tenant.locator('[data-test="live"]').waitFor({ state: 'detached' });
    await tenant.locator('[data-test="approval-step-0"]').filter({ hasText: 'Approved' }).waitFor();
    await shot(tenant, '15-workload-completed');

    await tenant.goto('/workloads?vdc=demo');
    const row = tenant.locator('[data-test="workloads-table"] .el-table__row', { hasText: workloadName });
    await row.waitFor();
    expect(await row.innerText()).toContain('nginx:1.27');
    expect(await row.innerText()).toContain(workloadTicket.slice(0, 12));
    await shot(tenant, '15b-workload-listed');
  });
});
