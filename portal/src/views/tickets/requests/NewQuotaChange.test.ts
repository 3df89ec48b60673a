import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { transport } from '../../../api/http.ts';
import { i18n } from '../../../locales/index.ts';
import { ROUTE } from '../../../router/names.ts';
import NewQuotaChange from './NewQuotaChange.vue';

/**
 * The browser side of the quota form: client rules and how server problems are shown. The api module's
 * fetch is replaced by canned responses; the real API contract is covered by the api tests and e2e.
 */

const VDCS = {
  items: [{ id: 'demo', name: 'demo', domainId: 'd1', namespace: 'vdc-demo', quota: { cpu: 4, memoryGi: 8, pods: 20 } }],
};

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
}

type Handler = (url: string, init: RequestInit) => Response;

let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;
const originalFetch = transport.fetch;

function serve(onSubmit: Handler): void {
  fetchMock = vi.fn<typeof fetch>(async (input, init = {}) => {
    const url = String(input);
    if (url === '/api/vdcs') return json(200, VDCS);
    if (url === '/api/tickets' && init.method === 'POST') return onSubmit(url, init);
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 }, 'application/problem+json');
  });
  transport.fetch = fetchMock;
}

function submissions() {
  return fetchMock.mock.calls.filter(([url, init]) => String(url) === '/api/tickets' && init?.method === 'POST');
}

async function mountForm(): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/tickets/new', name: ROUTE.newQuotaChange, component: NewQuotaChange },
      { path: '/tickets/:id', name: ROUTE.ticketDetail, component: { render: () => null } },
    ],
  });
  await router.push('/tickets/new');
  await router.isReady();
  const wrapper = mount(NewQuotaChange, {
    attachTo: document.body,
    global: { plugins: [ElementPlus, createPinia(), i18n, router] },
  });
  await flushPromises();
  return { wrapper, router };
}

async function chooseVdc(wrapper: VueWrapper, id: string): Promise<void> {
  await wrapper.find('[data-test="vdc-select"] .el-select__wrapper').trigger('click');
  await flushPromises();
  const option = document.querySelector<HTMLElement>(`[data-test="vdc-option-${id}"]`);
  if (!option) throw new Error(`option ${id} not rendered`);
  option.click();
  await flushPromises();
}

async function typeAmount(wrapper: VueWrapper, resource: 'cpu' | 'memoryGi' | 'pods', value: string): Promise<void> {
  const input = wrapper.find(`[data-test="${resource}-input"] input`);
  await input.setValue(value);
  await input.trigger('change');
  await input.trigger('blur');
  await settle();
}

/** async-validator settles on later macrotasks than Vue's scheduler. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function submit(wrapper: VueWrapper): Promise<void> {
  await wrapper.find('[data-test="quota-form"]').trigger('submit');
  await settle();
}

/**
 * The message an el-form-item shows (its own, not a nested item's), or null. Element Plus debounces
 * showing it by 100 ms, so assertions wait with `vi.waitFor`.
 */
function fieldError(wrapper: VueWrapper, item: string): string | null {
  const formItem = wrapper.find(`[data-test="${item}"]`).element;
  const own = [...formItem.querySelectorAll('.el-form-item__error')].find((e) => e.closest('.el-form-item') === formItem);
  return own?.textContent?.trim() ?? null;
}

describe('NewQuotaChange form', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'en';
    // happy-dom has no layout, so label-width="auto" cannot be measured; that warning is noise here.
    const warn = console.warn.bind(console);
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      if (!String(args[0]).includes('unexpected width')) warn(...args);
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    document.body.innerHTML = '';
  });

  it('loads the VDCs and shows the chosen one’s current quota', async () => {
    serve(() => json(500, {}));
    const { wrapper } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    expect(wrapper.find('[data-test="current-quota"]').text()).toContain('4 cores');
    expect(wrapper.find('[data-test="current-quota"]').text()).toContain('20 pods');
    wrapper.unmount();
  });

  it('refuses a negative amount beside the field and sends nothing', async () => {
    serve(() => json(201, {}));
    const { wrapper } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await typeAmount(wrapper, 'cpu', '-1');
    await vi.waitFor(() => expect(fieldError(wrapper, 'cpu-item')).toBe('Must be 0 or more'));

    await submit(wrapper);
    await vi.waitFor(() => expect(fieldError(wrapper, 'cpu-item')).toBe('Must be 0 or more'));
    expect(submissions()).toHaveLength(0);
    wrapper.unmount();
  });

  it('refuses a negative pod count', async () => {
    serve(() => json(201, {}));
    const { wrapper } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await typeAmount(wrapper, 'pods', '-3');
    await vi.waitFor(() => expect(fieldError(wrapper, 'pods-item')).toBe('Must be 0 or more'));
    await submit(wrapper);
    expect(submissions()).toHaveLength(0);
    wrapper.unmount();
  });

  it('refuses a request with no resource given', async () => {
    serve(() => json(201, {}));
    const { wrapper } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await submit(wrapper);
    await vi.waitFor(() => expect(fieldError(wrapper, 'quota-item')).toBe('Enter at least one of CPU, memory or pods'));
    expect(submissions()).toHaveLength(0);

    await typeAmount(wrapper, 'memoryGi', '12');
    await vi.waitFor(() => expect(fieldError(wrapper, 'quota-item')).toBeNull());
    wrapper.unmount();
  });

  it('requires a VDC', async () => {
    serve(() => json(201, {}));
    const { wrapper } = await mountForm();
    await typeAmount(wrapper, 'cpu', '2');
    await submit(wrapper);
    await vi.waitFor(() => expect(fieldError(wrapper, 'vdc-item')).toBe('Choose a VDC'));
    expect(submissions()).toHaveLength(0);
    wrapper.unmount();
  });

  it('shows a server field error next to the field it names', async () => {
    serve(() =>
      json(
        422,
        {
          type: 'https://edgeport.dev/problems/validation',
          title: 'Invalid request',
          status: 422,
          errors: [{ field: 'quota.cpu', message: 'exceeds the domain budget (max 5)' }],
        },
        'application/problem+json',
      ),
    );
    const { wrapper, router } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await typeAmount(wrapper, 'cpu', '6');
    await submit(wrapper);

    expect(submissions()).toHaveLength(1);
    await vi.waitFor(() => expect(fieldError(wrapper, 'cpu-item')).toBe('exceeds the domain budget (max 5)'));
    await vi.waitFor(() => expect(fieldError(wrapper, 'memoryGi-item')).toBeNull());
    expect(router.currentRoute.value.name).toBe(ROUTE.newQuotaChange);

    // Editing the field clears the server's message.
    await typeAmount(wrapper, 'cpu', '5');
    await vi.waitFor(() => expect(fieldError(wrapper, 'cpu-item')).toBeNull());
    wrapper.unmount();
  });

  it('lists server errors for fields the form does not have', async () => {
    serve(() =>
      json(
        422,
        { type: 'about:blank', title: 'Invalid request', status: 422, errors: [{ field: 'type', message: 'unsupported' }] },
        'application/problem+json',
      ),
    );
    const { wrapper } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await typeAmount(wrapper, 'pods', '30');
    await submit(wrapper);
    expect(wrapper.find('[data-test="form-errors"]').text()).toContain('unsupported');
    wrapper.unmount();
  });

  it('submits once with an Idempotency-Key and opens the new ticket', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    serve(() => json(201, { id: 'T-42', status: 'submitted' }));
    const inner = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (input, init) => {
      if (String(input) === '/api/tickets') await gate;
      return inner(input, init);
    });

    const { wrapper, router } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await typeAmount(wrapper, 'cpu', '6');
    await typeAmount(wrapper, 'memoryGi', '12');
    await typeAmount(wrapper, 'pods', '30');
    await wrapper.find('[data-test="reason-input"]').setValue('  more builds  ');

    await submit(wrapper);
    await submit(wrapper); // a second click while the first is in flight
    release();
    await settle();

    const sent = submissions();
    expect(sent).toHaveLength(1);
    const init = sent[0]![1]!;
    const headers = init.headers as Record<string, string>;
    expect(headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(String(init.body))).toEqual({
      type: 'quota-change',
      vdcId: 'demo',
      quota: { cpu: 6, memoryGi: 12, pods: 30 },
      reason: 'more builds',
    });
    expect(init.credentials).toBe('same-origin');
    expect(router.currentRoute.value.name).toBe(ROUTE.ticketDetail);
    expect(router.currentRoute.value.params.id).toBe('T-42');
    wrapper.unmount();
  });

  it('keeps the Idempotency-Key when a submit is lost to a network error', async () => {
    let attempt = 0;
    serve(() => {
      attempt += 1;
      if (attempt === 1) throw new TypeError('Failed to fetch');
      return json(200, { id: 'T-7', status: 'submitted' });
    });
    const { wrapper, router } = await mountForm();
    await chooseVdc(wrapper, 'demo');
    await typeAmount(wrapper, 'pods', '30');
    await submit(wrapper);
    expect(router.currentRoute.value.name).toBe(ROUTE.newQuotaChange);
    await submit(wrapper);

    const keys = submissions().map(([, init]) => (init!.headers as Record<string, string>)['Idempotency-Key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(router.currentRoute.value.params.id).toBe('T-7');
    wrapper.unmount();
  });
});
