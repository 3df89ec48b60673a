import { flushPromises, mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { transport } from '../../api/http.ts';
import { i18n } from '../../locales/index.ts';
import IpLists from './IpLists.vue';

/** The IP lists editor: server field errors land on the entry they name; a 409 lock-out shows its reason. */

const VIEW = { allow: ['10.0.0.0/8'], deny: [], updatedAt: null, updatedBy: null, clientAddress: '127.0.0.1' };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

let puts: unknown[] = [];
const originalFetch = transport.fetch;

function serve(onPut: () => Response): void {
  puts = [];
  transport.fetch = vi.fn<typeof fetch>(async (input, init = {}) => {
    if (String(input) !== '/api/ip-lists') return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
    if (init.method === 'PUT') {
      puts.push(JSON.parse(String(init.body)));
      return onPut();
    }
    return json(200, VIEW);
  });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function mountView() {
  const wrapper = mount(IpLists, { attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n] } });
  await settle();
  return wrapper;
}

describe('IpLists view', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'en';
  });
  afterEach(() => {
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    document.body.innerHTML = '';
  });

  it('shows the caller’s address and marks the entry a 400 names', async () => {
    serve(() =>
      json(400, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        errors: [{ field: 'allow[1]', message: 'not an IPv4/IPv6 address or CIDR: "10.0.0.300"' }],
      }),
    );
    const w = await mountView();
    expect(w.find('[data-test="client-address"]').text()).toBe('127.0.0.1');
    await w.find('[data-test="ip-allow-input"]').setValue('10.0.0.300');
    await w.find('[data-test="ip-allow-add"]').trigger('click');
    await w.find('[data-test="ip-save"]').trigger('click');
    await settle();

    expect(puts).toEqual([{ allow: ['10.0.0.0/8', '10.0.0.300'], deny: [] }]);
    expect(w.find('[data-test="ip-allow-1"]').classes()).toContain('el-tag--danger');
    expect(w.find('[data-test="ip-allow-0"]').classes()).not.toContain('el-tag--danger');
    expect(w.find('[data-test="ip-allow-errors"]').text()).toContain('not an IPv4/IPv6 address or CIDR');
    w.unmount();
  });

  it('shows the lock-out reason of a 409', async () => {
    serve(() => json(409, { type: 'about:blank', title: 'Conflict', status: 409, detail: 'these lists would block your own address 127.0.0.1' }));
    const w = await mountView();
    await w.find('[data-test="ip-deny-input"]').setValue('127.0.0.1');
    await w.find('[data-test="ip-deny-add"]').trigger('click');
    await w.find('[data-test="ip-save"]').trigger('click');
    await settle();
    expect(w.find('[data-test="conflict"]').text()).toContain('would block your own address 127.0.0.1');
    w.unmount();
  });

  it('refuses an entry longer than the API allows before sending', async () => {
    serve(() => json(200, VIEW));
    const w = await mountView();
    await w.find('[data-test="ip-allow-input"]').setValue('1'.repeat(65));
    await w.find('[data-test="ip-allow-add"]').trigger('click');
    await settle();
    await vi.waitFor(() => expect(w.find('[data-test="ip-allow-item"] .el-form-item__error').text()).toBe('At most 64 characters'));
    expect(w.findAll('[data-test^="ip-allow-"][data-test$="0"]')).toHaveLength(1);
    expect(puts).toHaveLength(0);
    w.unmount();
  });
});
