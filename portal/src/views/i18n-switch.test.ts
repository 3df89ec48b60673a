import { flushPromises, mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Component } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { transport } from '../api/http.ts';
import { i18n } from '../locales/index.ts';
import { routes } from '../router/index.ts';
import Delegations from './approvals/Delegations.vue';
import Inbox from './approvals/Inbox.vue';
import VdcDashboard from './dashboard/VdcDashboard.vue';
import Finance from './finance/Finance.vue';
import NewRequest from './tickets/NewRequest.vue';

/**
 * Every main view of the portal re-renders its labels when the language changes: mounted in English,
 * switched to 简体中文, the English labels are gone and the Chinese ones are shown (no reload).
 */

const NOW = new Date();
const TICKET = {
  id: 'tkt-1-abcdef',
  type: 'quota-change',
  status: 'pending_approval',
  requester: { sub: 'u-tenant', name: 'Tina Tenant' },
  vdcId: 'demo',
  vdcName: 'demo',
  domainId: 'd1',
  payload: { type: 'quota-change', vdcId: 'demo', quota: { cpu: 6 } },
  policy: { version: 'p1', outcome: 'approval', reason: 'over the auto-approve limit', chain: [{ step: 0, role: 'vdc-admin', label: 'VDC admin' }] },
  approvals: [{ step: 0, role: 'vdc-admin', deadline: new Date(NOW.getTime() + 3_600_000 * 5).toISOString() }],
  currentStep: 0,
  preview: { hash: 'h', namespace: 'vdc-demo', current: { cpu: 4 }, used: { cpu: 1, memoryGi: 2, pods: 3 }, requested: { cpu: 6 }, diff: [], checkedAt: NOW.toISOString() },
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
  canDecide: true,
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const originalFetch = transport.fetch;

function serve(): void {
  transport.fetch = vi.fn<typeof fetch>(async (input) => {
    const url = String(input);
    if (url === '/api/me') return json(200, { sub: 'u-vdcadmin', name: 'Victor', email: '', username: 'vdcadmin', bindings: [], permissions: ['ticket:decide', 'report:read'] });
    if (url === '/api/vdcs') return json(200, { items: [{ id: 'demo', name: 'demo', domainId: 'd1', namespace: 'vdc-demo', quota: { cpu: 4, memoryGi: 8, pods: 20 } }] });
    if (url.startsWith('/api/tickets')) return json(200, { items: [TICKET] });
    if (url.startsWith('/api/reports/')) return json(200, { kind: 'chargeback', invoices: [], period: { from: '', to: '' }, asOf: NOW.toISOString(), priceBookVersions: [1], rounding: '', totals: { CNY: '12.50' } });
    if (url === '/api/pricebook') return json(200, { items: [] });
    if (url === '/api/delegations') return json(200, { items: [] });
    if (url === '/api/domains') return json(200, { items: [] });
    return json(403, { type: 'about:blank', title: 'Forbidden', status: 403 });
  });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

const VIEWS: { name: string; component: Component; path: string; en: string[]; zh: string[] }[] = [
  { name: 'dashboard', component: VdcDashboard, path: '/dashboard', en: ['VDC dashboard', 'Quota and usage', 'Open tickets', 'Recent activity'], zh: ['虚拟数据中心概览', '配额与用量', '未完成工单', '最近动态'] },
  { name: 'new request (quota)', component: NewRequest, path: '/tickets/new', en: ['Request a quota change', 'Submit request', 'Deploy workload'], zh: ['提交申请', '部署工作负载'] },
  { name: 'new request (workload)', component: NewRequest, path: '/tickets/new/workload-deploy', en: ['Deploy or upgrade a workload', 'Preview request', 'Main container', 'Image'], zh: ['部署或升级工作负载', '预览工单', '主容器', '镜像'] },
  { name: 'new request (node join)', component: NewRequest, path: '/tickets/new/node-join', en: ['Join an edge node', 'Resource pool', 'Join token lifetime'], zh: ['边缘节点接入', '资源池', '接入令牌有效期'] },
  { name: 'inbox', component: Inbox, path: '/approvals', en: ['Approvals inbox', 'SLA deadline', 'left'], zh: ['待我审批', 'SLA 截止时间', '剩余'] },
  { name: 'delegations', component: Delegations, path: '/approvals/delegations', en: ['Delegations', 'Save delegation', 'Your delegations'], zh: ['审批委托', '保存委托', '我的委托'] },
  { name: 'finance', component: Finance, path: '/finance', en: ['Finance', 'Reports', 'Price book', 'Cost by VDC'], zh: ['财务', '报表', '价格表', '按虚拟数据中心统计费用'] },
];

describe('language switch', { timeout: 120_000 }, () => {
  beforeEach(() => {
    serve();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    i18n.global.locale.value = 'en';
    document.body.innerHTML = '';
  });

  it.each(VIEWS)('changes the labels of $name', async (view) => {
    i18n.global.locale.value = 'en';
    const router = createRouter({ history: createMemoryHistory(), routes });
    await router.push(view.path);
    await router.isReady();
    const wrapper = mount({ template: '<router-view />' }, { attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n, router] } });
    await settle();
    await vi.waitFor(() => expect(document.body.textContent).toContain(view.en[0]));
    const before = document.body.textContent ?? '';
    for (const label of view.en) expect(before).toContain(label);

    i18n.global.locale.value = 'zh-CN';
    await settle();
    const after = document.body.textContent ?? '';
    for (const label of view.zh) expect(after).toContain(label);
    for (const label of view.en) expect(after).not.toContain(label);
    wrapper.unmount();
  });
});
