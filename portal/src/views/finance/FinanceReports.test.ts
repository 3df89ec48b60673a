import { flushPromises, mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { transport } from '../../api/http.ts';
import { i18n } from '../../locales/index.ts';
import { useSessionStore } from '../../stores/session.ts';
import FinanceReports from './FinanceReports.vue';

/**
 * The finance report view shows the ledger lines a report could not price (`errors`) and the voided ones
 * (issue 19), and lets a holder of `ledger:void` void a line with a reason, then shows the report again.
 */

const BAD = 'volume-demo-create-x/00000000-0000-4000-8000-000000000000/7';
const report = (errors: unknown[], voided: unknown[]) => ({
  kind: 'chargeback',
  invoices: [],
  period: { from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
  asOf: '2026-12-08T05:00:00.000Z',
  priceBookVersions: [],
  rounding: '',
  totals: {},
  errors,
  voided,
});
const ERROR = { ledgerLineId: BAD, vdcId: 'demo', domainId: 'demo-domain', pool: 'local', reason: 'not a decimal with at most 6 fraction digits: 1.024e+23' };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

let voids: unknown[] = [];
const originalFetch = transport.fetch;

function serve(): void {
  voids = [];
  transport.fetch = vi.fn<typeof fetch>(async (input, init = {}) => {
    const url = String(input);
    if (url === '/api/ledger/voids' && init.method === 'POST') {
      voids.push(JSON.parse(String(init.body)));
      return json(201, { _id: BAD });
    }
    if (url.startsWith('/api/reports/platform'))
      return json(
        200,
        voids.length ? report([], [{ ...ERROR, reason: 'huge volume', by: 'Fiona Finance', at: '2026-12-08T05:10:00.000Z' }]) : report([ERROR], []),
      );
    if (url.startsWith('/api/vdcs') || url.startsWith('/api/domains')) return json(200, { items: [] });
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 8; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('FinanceReports: lines a report cannot price', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'en';
  });
  afterEach(() => {
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    document.body.innerHTML = '';
  });

  it('lists them above the report, and a finance user voids one with a reason; the reloaded report lists it as voided', async () => {
    serve();
    const pinia = createPinia();
    setActivePinia(pinia);
    useSessionStore().user = { sub: 'u-fin', name: 'Fiona Finance', email: '', username: 'finance', bindings: [], permissions: ['report:read', 'ledger:void'] };
    const wrapper = mount(FinanceReports, { attachTo: document.body, global: { plugins: [ElementPlus, pinia, i18n] } });
    await settle();
    const errors = wrapper.find('[data-test="report-errors"]');
    expect(errors.exists()).toBe(true);
    expect(errors.text()).toContain('1 ledger line(s) could not be priced');
    expect(errors.text()).toContain(BAD);
    expect(errors.text()).toContain('1.024e+23');

    await wrapper.find('[data-test="void-line"]').trigger('click');
    await settle();
    const input = document.querySelector<HTMLInputElement>('.el-message-box input');
    expect(input).not.toBeNull();
    input!.value = 'huge volume';
    input!.dispatchEvent(new Event('input'));
    await settle();
    document.querySelector<HTMLButtonElement>('.el-message-box__btns .el-button--primary')!.click();
    await settle();
    expect(voids).toEqual([{ lineId: BAD, reason: 'huge volume' }]);
    expect(wrapper.find('[data-test="report-errors"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="report-voided"]').text()).toContain('1 voided ledger line(s)');
    wrapper.unmount();
  });

  it('shows no void action to a report reader without ledger:void', async () => {
    serve();
    const pinia = createPinia();
    setActivePinia(pinia);
    useSessionStore().user = { sub: 'u-va', name: 'Victor', email: '', username: 'vdcadmin', bindings: [], permissions: ['report:read'] };
    const wrapper = mount(FinanceReports, { attachTo: document.body, global: { plugins: [ElementPlus, pinia, i18n] } });
    await settle();
    expect(wrapper.find('[data-test="report-errors"]').exists()).toBe(true);
    expect(wrapper.find('[data-test="void-line"]').exists()).toBe(false);
    wrapper.unmount();
  });
});
