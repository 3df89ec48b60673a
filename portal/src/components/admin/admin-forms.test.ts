import type { PermissionNode } from '@common/permissions';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Component } from 'vue';
import { transport } from '../../api/http.ts';
import { i18n } from '../../locales/index.ts';
import DomainForm from './DomainForm.vue';
import PoolForm from './PoolForm.vue';
import RoleForm from './RoleForm.vue';
import TokenForm from './TokenForm.vue';
import VdcForm from './VdcForm.vue';

/**
 * The admin forms' client rules (mirroring the API's zod schemas) and how server problems are shown. The
 * fetch is replaced by canned responses; the API contract itself is covered by the api tests and e2e.
 */

const TREE: PermissionNode[] = [
  {
    key: 'platform',
    label: { en: 'Platform', 'zh-CN': '平台' },
    children: [
      { key: 'pool:read', scope: 'platform', label: { en: 'View resource pools', 'zh-CN': '查看资源池' } },
      { key: 'audit:read', scope: 'platform', label: { en: 'Read the audit log', 'zh-CN': '查看审计日志' } },
    ],
  },
  {
    key: 'tickets',
    label: { en: 'Requests', 'zh-CN': '工单' },
    children: [{ key: 'ticket:read', scope: 'vdc', label: { en: 'View requests', 'zh-CN': '查看工单' } }],
  },
];

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;
const originalFetch = transport.fetch;

function serve(answer: (url: string, init: RequestInit) => Response): void {
  fetchMock = vi.fn<typeof fetch>(async (input, init = {}) => answer(String(input), init));
  transport.fetch = fetchMock;
}
const sent = () => fetchMock.mock.calls.filter(([, init]) => init?.method && init.method !== 'GET');
const bodyOf = (i: number): unknown => JSON.parse(String(sent()[i]![1]!.body));

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function mountForm(component: Component, props: Record<string, unknown> = {}): Promise<VueWrapper> {
  const wrapper = mount(component, { props, attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n] } });
  await flushPromises();
  return wrapper;
}

async function type(wrapper: VueWrapper, test: string, value: string): Promise<void> {
  const el = wrapper.find(`[data-test="${test}"] input, [data-test="${test}"] textarea, input[data-test="${test}"], textarea[data-test="${test}"]`);
  await el.setValue(value);
  await el.trigger('change');
  await el.trigger('blur');
  await settle();
}

async function submit(wrapper: VueWrapper, form: string): Promise<void> {
  await wrapper.find(`[data-test="${form}"]`).trigger('submit');
  await settle();
}

function fieldError(wrapper: VueWrapper, item: string): string | null {
  const formItem = wrapper.find(`[data-test="${item}"]`).element;
  const own = [...formItem.querySelectorAll('.el-form-item__error')].find((e) => e.closest('.el-form-item') === formItem);
  return own?.textContent?.trim() ?? null;
}

async function check(wrapper: VueWrapper, key: string): Promise<void> {
  const node = wrapper.find(`[data-test="perm-${key}"]`).element.closest('.el-tree-node__content');
  const box = node?.querySelector<HTMLElement>('.el-checkbox__original');
  if (!box) throw new Error(`no checkbox for ${key}`);
  box.click();
  await settle();
}

describe('admin forms', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'en';
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

  it('domain: refuses a non-DNS id and an empty name, sends nothing', async () => {
    serve(() => json(201, {}));
    const w = await mountForm(DomainForm);
    await type(w, 'domain-id-input', 'East_Region');
    await type(w, 'domain-name-input', '   ');
    await submit(w, 'domain-form');
    await vi.waitFor(() => expect(fieldError(w, 'domain-id-item')).toMatch(/Lower-case letters/));
    await vi.waitFor(() => expect(fieldError(w, 'domain-name-item')).toBe('Required'));
    expect(sent()).toHaveLength(0);
    w.unmount();
  });

  it('domain: sends a valid body and shows a 409 beside the id', async () => {
    serve(() => json(409, { type: 'about:blank', title: 'Conflict', status: 409, detail: 'domain east already exists' }));
    const w = await mountForm(DomainForm);
    await type(w, 'domain-id-input', 'east');
    await type(w, 'domain-name-input', ' East region ');
    await submit(w, 'domain-form');
    expect(sent()).toHaveLength(1);
    expect(bodyOf(0)).toEqual({ id: 'east', name: 'East region' });
    await vi.waitFor(() => expect(fieldError(w, 'domain-id-item')).toBe('domain east already exists'));
    expect(w.emitted('saved')).toBeUndefined();
    w.unmount();
  });

  const POOLS = {
    items: [
      { id: 'local', name: 'Local cluster', status: 'ready' },
      { id: 'edge-1', name: 'Edge 1', status: 'ready' },
    ],
  };
  /** Serves GET /api/pools from POOLS and every write with `write`. */
  const servePools = (write: (url: string, init: RequestInit) => Response) =>
    serve((url, init) => (init.method && init.method !== 'GET' ? write(url, init) : json(200, POOLS)));
  async function pick(w: VueWrapper, row: number, pool: string): Promise<void> {
    await w.find(`[data-test="vdc-pool-${row}-select"] .el-select__wrapper`).trigger('click');
    await settle();
    const option = [...document.querySelectorAll<HTMLElement>(`[data-test="vdc-pool-option-${pool}"]`)].pop();
    if (!option) throw new Error(`no option ${pool}`);
    option.click();
    await settle();
  }

  it('vdc: needs a pool and the whole quota, an id of at most 59 characters, no negative amounts', async () => {
    servePools(() => json(201, {}));
    const w = await mountForm(VdcForm, { domainId: 'east' });
    await settle();
    await type(w, 'vdc-id-input', 'a'.repeat(60));
    await type(w, 'vdc-name-input', 'Team A');
    await type(w, 'vdc-cpu-input', '-2');
    await type(w, 'vdc-memoryGi-input', '8');
    await submit(w, 'vdc-form');
    await vi.waitFor(() => expect(fieldError(w, 'vdc-id-item')).toBe('At most 59 characters'));
    await vi.waitFor(() => expect(fieldError(w, 'vdc-pool-0-item')).toBe('Required'));
    await vi.waitFor(() => expect(fieldError(w, 'vdc-cpu-item')).toBe('Must be 0 or more'));
    await vi.waitFor(() => expect(fieldError(w, 'vdc-pods-item')).toBe('Required'));
    expect(sent()).toHaveLength(0);
    w.unmount();
  });

  it('vdc: picks two registered pools with a quota each, posts them in order, shows server errors beside the row', async () => {
    servePools(() =>
      json(400, { type: 'about:blank', title: 'Bad Request', status: 400, errors: [{ field: 'pools[1].quota.pods', message: 'too many for the pool' }] }),
    );
    const w = await mountForm(VdcForm, { domainId: 'east' });
    await settle();
    expect(fetchMock.mock.calls.some(([url]) => String(url) === '/api/pools')).toBe(true);
    await type(w, 'vdc-id-input', 'team-a');
    await type(w, 'vdc-name-input', 'Team A');
    await pick(w, 0, 'edge-1');
    await type(w, 'vdc-cpu-input', '4');
    await type(w, 'vdc-memoryGi-input', '8');
    await type(w, 'vdc-pods-input', '20');
    await w.find('[data-test="vdc-add-pool"]').trigger('click');
    await settle();
    await pick(w, 1, 'local');
    await type(w, 'vdc-pool-1-cpu-input', '2');
    await type(w, 'vdc-pool-1-memoryGi-input', '4');
    await type(w, 'vdc-pool-1-pods-input', '10');
    await submit(w, 'vdc-form');
    expect(sent()).toHaveLength(1);
    expect(String(sent()[0]![0])).toBe('/api/domains/east/vdcs');
    expect(bodyOf(0)).toEqual({
      id: 'team-a',
      name: 'Team A',
      pools: [
        { pool: 'edge-1', quota: { cpu: 4, memoryGi: 8, pods: 20 } },
        { pool: 'local', quota: { cpu: 2, memoryGi: 4, pods: 10 } },
      ],
    });
    await vi.waitFor(() => expect(fieldError(w, 'vdc-pool-1-pods-item')).toBe('too many for the pool'));
    w.unmount();
  });

  it('role: needs a base role and at least one permission; sends the checked leaves', async () => {
    serve((url) => json(201, { id: 'custom:auditor', name: 'Auditor', builtin: false, baseRole: 'vdc-user', permissions: ['audit:read'], scopes: [], url }));
    const w = await mountForm(RoleForm, { tree: TREE });
    await type(w, 'role-id-input', 'auditor');
    await type(w, 'role-name-input', 'Auditor');
    await submit(w, 'role-form');
    await vi.waitFor(() => expect(fieldError(w, 'role-base-item')).toBe('Choose a base role'));
    await vi.waitFor(() => expect(fieldError(w, 'role-permissions-item')).toBe('Check at least one permission'));
    expect(sent()).toHaveLength(0);
    expect(w.find('[data-test="perm-platform"]').text()).toBe('Platform');

    await w.find('[data-test="role-base-select"] .el-select__wrapper').trigger('click');
    await settle();
    document.querySelector<HTMLElement>('[data-test="base-option-vdc-user"]')!.click();
    await check(w, 'audit:read');
    await check(w, 'ticket:read');
    await submit(w, 'role-form');
    expect(sent()).toHaveLength(1);
    expect(bodyOf(0)).toEqual({ id: 'auditor', name: 'Auditor', baseRole: 'vdc-user', permissions: ['audit:read', 'ticket:read'] });
    expect(w.emitted('saved')).toHaveLength(1);
    w.unmount();
  });

  it('role: tree labels follow the language', async () => {
    serve(() => json(201, {}));
    i18n.global.locale.value = 'zh-CN';
    const w = await mountForm(RoleForm, { tree: TREE });
    expect(w.find('[data-test="perm-audit:read"]').text()).toBe('查看审计日志');
    w.unmount();
  });

  it('pool: https only, token without spaces, CA must be base64 PEM', async () => {
    serve(() => json(201, {}));
    const w = await mountForm(PoolForm);
    await type(w, 'pool-id-input', 'edge-1');
    await type(w, 'pool-name-input', 'Edge 1');
    await type(w, 'pool-server-input', 'http://10.0.0.1:6443');
    await type(w, 'pool-token-input', 'abc def');
    await type(w, 'pool-ca-input', 'not base64!');
    await submit(w, 'pool-form');
    await vi.waitFor(() => expect(fieldError(w, 'pool-server-item')).toBe('Must be an https URL'));
    await vi.waitFor(() => expect(fieldError(w, 'pool-token-item')).toBe('Printable characters only, no spaces'));
    await vi.waitFor(() => expect(fieldError(w, 'pool-ca-item')).toBe('Must be base64 of a PEM document of the right kind'));
    expect(sent()).toHaveLength(0);
    w.unmount();
  });

  it('pool: sends the token auth and shows server errors on nested fields', async () => {
    serve(() => json(400, { type: 'about:blank', title: 'Bad Request', status: 400, errors: [{ field: 'auth.token', message: 'refused by the cluster' }] }));
    const w = await mountForm(PoolForm);
    const ca = btoa('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await type(w, 'pool-id-input', 'edge-1');
    await type(w, 'pool-name-input', 'Edge 1');
    await type(w, 'pool-server-input', 'https://10.0.0.1:6443');
    await type(w, 'pool-token-input', 'tok.en-123');
    await type(w, 'pool-ca-input', ca);
    await submit(w, 'pool-form');
    expect(sent()).toHaveLength(1);
    expect(bodyOf(0)).toEqual({ id: 'edge-1', name: 'Edge 1', server: 'https://10.0.0.1:6443', auth: { type: 'token', token: 'tok.en-123', caData: ca } });
    await vi.waitFor(() => expect(fieldError(w, 'pool-token-item')).toBe('refused by the cluster'));
    w.unmount();
  });

  it('token: limits the tree to held permissions and checks the expiry range', async () => {
    serve(() => json(201, { id: 'x', token: 'ep_x', name: 'ci', permissions: ['pool:read'] }));
    const w = await mountForm(TokenForm, { tree: TREE, held: ['pool:read'] });
    const disabled = w.find('[data-test="perm-audit:read"]').element.closest('.el-tree-node__content')!.querySelector('.el-checkbox.is-disabled');
    expect(disabled).not.toBeNull();
    await type(w, 'token-name-input', 'ci');
    await type(w, 'token-expiry-input', '400');
    await submit(w, 'token-form');
    await vi.waitFor(() => expect(fieldError(w, 'token-permissions-item')).toBe('Check at least one permission'));
    expect(sent()).toHaveLength(0);

    await check(w, 'pool:read');
    await type(w, 'token-expiry-input', '30');
    await submit(w, 'token-form');
    expect(sent()).toHaveLength(1);
    expect(bodyOf(0)).toEqual({ name: 'ci', permissions: ['pool:read'], expiresInDays: 30 });
    w.unmount();
  });
});
