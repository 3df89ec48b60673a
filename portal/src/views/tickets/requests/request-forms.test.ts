import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Component } from 'vue';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { transport } from '../../../api/http.ts';
import { i18n } from '../../../locales/index.ts';
import { ROUTE } from '../../../router/names.ts';
import NewRequest from '../NewRequest.vue';
import NewNodeJoin from './NewNodeJoin.vue';
import NewQuotaLease from './NewQuotaLease.vue';
import NewSpaceCreate from './NewSpaceCreate.vue';
import NewSpaceDelete from './NewSpaceDelete.vue';
import NewWorkloadDeploy from './NewWorkloadDeploy.vue';
import NewWorkloadRollback from './NewWorkloadRollback.vue';

/**
 * The request forms' validation (the API's own zod schemas, run in the browser), the preview before the
 * submit and how server field errors are shown. fetch is replaced by canned responses; the API contract
 * itself is covered by the api tests and the e2e run.
 */

const VDCS = { items: [{ id: 'demo', name: 'demo', domainId: 'd1', namespace: 'vdc-demo', quota: { cpu: 4, memoryGi: 8, pods: 20 } }] };
const VDC = {
  ...VDCS.items[0],
  namespaceStatus: 'active',
  pool: 'local',
  membersCount: 2,
  spaces: [{ name: 'web', namespace: 'demo-web', status: 'active', ticketId: 't', createdAt: '2026-01-01T00:00:00Z' }],
};

/** The demo VDC on `local` (primary) and `edge-1`, with one tainted arm64 edge node joined for it on `edge-1`. */
const EDGE_NODES = {
  items: [
    { pool: 'local', primary: true, namespace: 'vdc-demo', architectures: ['amd64', 'arm64'], nodes: [] },
    {
      pool: 'edge-1',
      primary: false,
      namespace: 'vdc-demo-edge-1',
      architectures: ['arm64'],
      nodes: [
        {
          name: 'shop-12',
          status: 'Ready',
          schedulable: true,
          architecture: 'arm64',
          labels: { 'edgeport.io/vdc': 'demo', 'kubernetes.io/arch': 'arm64', site: 'depot-3' },
          taints: [{ key: 'edgeport.io/dedicated', value: 'demo', effect: 'NoSchedule' }],
        },
      ],
    },
  ],
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;
const originalFetch = transport.fetch;

function serve(onSubmit: (body: unknown) => Response = () => json(201, { id: 'tkt-1-abcdef', status: 'submitted' })): void {
  fetchMock = vi.fn<typeof fetch>(async (input, init = {}) => {
    const url = String(input);
    if (url === '/api/vdcs') return json(200, VDCS);
    if (url === '/api/vdcs/demo') return json(200, VDC);
    if (url === '/api/vdcs/demo/edge-nodes') return json(200, EDGE_NODES);
    if (url === '/api/tickets' && init.method === 'POST') return onSubmit(JSON.parse(String(init.body)));
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  });
  transport.fetch = fetchMock;
}

function submissions(): unknown[] {
  return fetchMock.mock.calls
    .filter(([url, init]) => String(url) === '/api/tickets' && init?.method === 'POST')
    .map(([, init]) => JSON.parse(String(init!.body)));
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function mountForm(component: Component, path = '/form'): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/form', name: 'form', component },
      { path: '/tickets/new', name: ROUTE.newQuotaChange, component: NewRequest },
      { path: '/tickets/new/:type', name: ROUTE.newRequest, component: NewRequest },
      { path: '/tickets/:id', name: ROUTE.ticketDetail, component: { render: () => null } },
    ],
  });
  await router.push(path);
  await router.isReady();
  const real = mount({ template: '<router-view />' }, { attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n, router] } });
  await settle();
  return { wrapper: real, router };
}

function fieldError(item: string): string | null {
  const formItem = document.querySelector(`[data-test="${item}"]`);
  if (!formItem) throw new Error(`no form item ${item}`);
  const own = [...formItem.querySelectorAll('.el-form-item__error')].find((e) => e.closest('.el-form-item') === formItem);
  return own?.textContent?.trim() ?? null;
}

async function type(wrapper: VueWrapper, testId: string, value: string): Promise<void> {
  const el = wrapper.find(`[data-test="${testId}"]`);
  const input = el.element.tagName === 'INPUT' || el.element.tagName === 'TEXTAREA' ? el : el.find('input, textarea');
  await input.setValue(value);
  await input.trigger('change');
  await input.trigger('blur');
  await settle();
}

async function chooseVdc(wrapper: VueWrapper): Promise<void> {
  await wrapper.find('[data-test="vdc-select"] .el-select__wrapper').trigger('click');
  await settle();
  document.querySelector<HTMLElement>('[data-test="vdc-option-demo"]')!.click();
  await settle();
}

async function review(wrapper: VueWrapper): Promise<void> {
  await wrapper.find('form').trigger('submit');
  await settle();
}

async function confirm(): Promise<void> {
  const button = document.querySelector<HTMLElement>('[data-test="confirm-submit"]');
  if (!button) throw new Error('the preview dialog is not open');
  button.click();
  await settle();
}

function previewOpen(): boolean {
  const dialog = document.querySelector<HTMLElement>('[data-test="preview-dialog"]');
  return dialog !== null && dialog.style.display !== 'none';
}

describe('request forms', { timeout: 120_000 }, () => {
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

  describe('space create', () => {
    it('refuses a name that is not a DNS label beside the field and a reserved label key beside the label', async () => {
      serve();
      const { wrapper } = await mountForm(NewSpaceCreate);
      await chooseVdc(wrapper);
      await type(wrapper, 'name-input', 'Web_App');
      await vi.waitFor(() => expect(fieldError('name-item')).toMatch(/DNS label/));
      await wrapper.find('[data-test="labels-add"]').trigger('click');
      await type(wrapper, 'labels-key-0', 'kubernetes.io/x');
      await type(wrapper, 'labels-value-0', 'y');
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('labels-row-0')).toMatch(/reserved/));
      expect(previewOpen()).toBe(false);
      expect(submissions()).toHaveLength(0);
      wrapper.unmount();
    });

    it('previews, then submits the body the schema accepts and opens the ticket', async () => {
      serve();
      const { wrapper, router } = await mountForm(NewSpaceCreate);
      await chooseVdc(wrapper);
      await type(wrapper, 'name-input', 'web');
      await wrapper.find('[data-test="labels-add"]').trigger('click');
      await type(wrapper, 'labels-key-0', 'tier');
      await type(wrapper, 'labels-value-0', 'frontend');
      await review(wrapper);
      await vi.waitFor(() => expect(previewOpen()).toBe(true));
      expect(document.querySelector('[data-test="preview-summary"]')!.textContent).toContain('demo-web');
      expect(submissions()).toHaveLength(0);
      await confirm();
      expect(submissions()).toEqual([{ type: 'space-create', vdcId: 'demo', name: 'web', labels: { tier: 'frontend' } }]);
      expect(router.currentRoute.value.params.id).toBe('tkt-1-abcdef');
      wrapper.unmount();
    });
  });

  describe('space delete', () => {
    it('requires a space and submits the chosen one', async () => {
      serve();
      const { wrapper } = await mountForm(NewSpaceDelete);
      await chooseVdc(wrapper);
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('name-item')).not.toBeNull());
      expect(previewOpen()).toBe(false);
      await wrapper.find('[data-test="name-select"] .el-select__wrapper').trigger('click');
      await settle();
      [...document.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].find((e) => e.textContent?.includes('demo-web'))!.click();
      await settle();
      await vi.waitFor(() => expect(fieldError('name-item')).toBeNull());
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([{ type: 'space-delete', vdcId: 'demo', name: 'web' }]);
      wrapper.unmount();
    });
  });

  describe('quota lease', () => {
    it('needs a quota and a positive duration, then submits', async () => {
      serve();
      const { wrapper } = await mountForm(NewQuotaLease);
      await chooseVdc(wrapper);
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('quota-item')).toMatch(/at least one/));
      await type(wrapper, 'cpu-input', '8');
      await type(wrapper, 'duration-input', '0');
      await vi.waitFor(() => expect(fieldError('end-item')).not.toBeNull());
      expect(submissions()).toHaveLength(0);
      await type(wrapper, 'duration-input', '48');
      await vi.waitFor(() => expect(fieldError('end-item')).toBeNull());
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([{ type: 'quota-lease', vdcId: 'demo', quota: { cpu: 8 }, durationHours: 48 }]);
      wrapper.unmount();
    });
  });

  describe('node join', () => {
    it('refuses a node name that is not a DNS subdomain and a bad taint key, then submits', async () => {
      serve();
      const { wrapper } = await mountForm(NewNodeJoin);
      await chooseVdc(wrapper);
      await type(wrapper, 'pool-input', 'local');
      await type(wrapper, 'node-name-input', 'Edge Node');
      await wrapper.find('[data-test="taint-add"]').trigger('click');
      await type(wrapper, 'taint-key-0', '-bad-');
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('node-name-item')).toMatch(/DNS-1123/));
      await vi.waitFor(() => expect(fieldError('taint-row-0')).toMatch(/taint key/));
      expect(submissions()).toHaveLength(0);

      await type(wrapper, 'node-name-input', 'edge-01');
      await type(wrapper, 'taint-key-0', 'dedicated');
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([
        { type: 'node-join', vdcId: 'demo', pool: 'local', nodeName: 'edge-01', taints: [{ key: 'dedicated', effect: 'NoSchedule' }], tokenTtlMinutes: 60 },
      ]);
      wrapper.unmount();
    });
  });

  describe('node join from a pool page', () => {
    it('fixes the pool, offers only the VDCs living on it (the single one chosen) and submits for that pool', async () => {
      const vdcs = {
        items: [
          { ...VDCS.items[0], pools: ['local'] },
          { id: 'edge', name: 'Edge VDC', domainId: 'd1', namespace: 'vdc-edge', quota: {}, pools: ['local', 'edge-1'] },
          { id: 'far', name: 'Far', domainId: 'd1', namespace: 'vdc-far', quota: {}, pools: ['local'] },
        ],
      };
      serve();
      fetchMock.mockImplementation(async (input, init = {}) => {
        const url = String(input);
        if (url === '/api/vdcs') return json(200, vdcs);
        if (url === '/api/tickets' && init.method === 'POST') return json(201, { id: 'tkt-1-abcdef', status: 'submitted' });
        return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
      });
      const { wrapper } = await mountForm(NewNodeJoin, '/form?pool=edge-1');
      expect((wrapper.find('[data-test="pool-input"]').element as HTMLInputElement).value).toBe('edge-1');
      expect((wrapper.find('[data-test="pool-input"]').element as HTMLInputElement).disabled).toBe(true);
      expect(wrapper.find('[data-test="pool-scope"]').text()).toContain('edge-1');
      await wrapper.find('[data-test="vdc-select"]').trigger('click');
      await settle();
      expect(document.querySelector('[data-test="vdc-option-edge"]')).not.toBeNull();
      expect(document.querySelector('[data-test="vdc-option-demo"]')).toBeNull();
      await type(wrapper, 'node-name-input', 'edge-02');
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([{ type: 'node-join', vdcId: 'edge', pool: 'edge-1', nodeName: 'edge-02', tokenTtlMinutes: 60 }]);
      wrapper.unmount();
    });
  });

  describe('workload rollback', () => {
    it('refuses revision 0 and submits without a revision (the previous one)', async () => {
      serve();
      const { wrapper } = await mountForm(NewWorkloadRollback);
      await chooseVdc(wrapper);
      await type(wrapper, 'name-input', 'shop');
      await type(wrapper, 'revision-input', '0');
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('revision-item')).not.toBeNull());
      await type(wrapper, 'revision-input', '');
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([{ type: 'workload-rollback', vdcId: 'demo', name: 'shop' }]);
      wrapper.unmount();
    });
  });

  describe('workload deploy', () => {
    it('shows a bad image and a bad cpu quantity beside their fields; fixed, it submits', async () => {
      serve();
      const { wrapper } = await mountForm(NewWorkloadDeploy);
      await chooseVdc(wrapper);
      await type(wrapper, 'wl-name-input', 'shop');
      await type(wrapper, 'image-input', 'nginx latest');
      await type(wrapper, 'cpu-request-input', '2 cores');
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('image-item')).toMatch(/image reference/));
      await vi.waitFor(() => expect(fieldError('cpu-request-item')).toMatch(/cpu quantity/));
      expect(previewOpen()).toBe(false);

      await type(wrapper, 'image-input', 'nginx:1.27');
      await type(wrapper, 'cpu-request-input', '250m');
      await vi.waitFor(() => expect(fieldError('image-item')).toBeNull());
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([
        {
          type: 'workload-deploy',
          vdcId: 'demo',
          workload: { kind: 'Deployment', name: 'shop', replicas: 1, containers: [{ name: 'app', image: 'nginx:1.27', requests: { cpu: '250m' } }] },
        },
      ]);
      wrapper.unmount();
    });

    it('edits the same workload as YAML, lists schema problems live and carries the edit back to the form', async () => {
      serve();
      const { wrapper } = await mountForm(NewWorkloadDeploy);
      await chooseVdc(wrapper);
      await type(wrapper, 'wl-name-input', 'shop');
      await type(wrapper, 'image-input', 'nginx:1.27');
      (wrapper.find('[data-test="view-yaml"] input').element as HTMLInputElement).click();
      await settle();
      const yaml = wrapper.find('textarea[data-test="yaml-input"]');
      expect((yaml.element as HTMLTextAreaElement).value).toContain('image: nginx:1.27');

      await yaml.setValue('kind: Deployment\nname: shop\nreplicas: 2\ncontainers:\n  - name: app\n    image: nginx:1.27\n    replicas: 3\n');
      await settle();
      expect(wrapper.find('[data-test="yaml-problems"]').text()).toContain('workload.containers[0].replicas');

      await yaml.setValue('kind: [');
      await settle();
      await vi.waitFor(() => expect(fieldError('yaml-item')).not.toBeNull());

      await yaml.setValue('kind: StatefulSet\nname: db\nreplicas: 2\ncontainers:\n  - name: pg\n    image: postgres:17\n');
      await settle();
      (wrapper.find('[data-test="view-form"] input').element as HTMLInputElement).click();
      await settle();
      expect((wrapper.find('input[data-test="wl-name-input"]').element as HTMLInputElement).value).toBe('db');
      expect((wrapper.find('input[data-test="image-input"]').element as HTMLInputElement).value).toBe('postgres:17');
      await review(wrapper);
      await confirm();
      expect(submissions()).toEqual([
        {
          type: 'workload-deploy',
          vdcId: 'demo',
          workload: { kind: 'StatefulSet', name: 'db', replicas: 2, containers: [{ name: 'pg', image: 'postgres:17' }] },
        },
      ]);
      wrapper.unmount();
    });

    it('shows the server’s field errors beside the fields they name and keeps the form', async () => {
      serve(() =>
        json(422, {
          type: 'about:blank',
          title: 'Invalid request',
          status: 422,
          errors: [
            { field: 'workload.containers[0].image', message: 'image is blocked: high-risk vulnerabilities' },
            { field: 'workload.volumes[0].name', message: 'volume name taken in this VDC' },
          ],
        }),
      );
      const { wrapper, router } = await mountForm(NewWorkloadDeploy);
      await chooseVdc(wrapper);
      await type(wrapper, 'wl-name-input', 'shop');
      await type(wrapper, 'image-input', 'bad:1');
      await review(wrapper);
      await confirm();
      await vi.waitFor(() => expect(fieldError('image-item')).toBe('image is blocked: high-risk vulnerabilities'));
      expect(wrapper.find('[data-test="form-errors"]').text()).toContain('volume name taken');
      expect(router.currentRoute.value.name).toBe('form');
      wrapper.unmount();
    });
  });

  describe('workload placement', () => {
    async function choose(wrapper: VueWrapper, select: string, option: string): Promise<void> {
      await wrapper.find(`[data-test="${select}"] .el-select__wrapper`).trigger('click');
      await settle();
      const el = document.querySelector<HTMLElement>(`[data-test="${option}"]`);
      if (!el) throw new Error(`no option ${option}`);
      el.click();
      await settle();
    }

    it('targets a pool, an architecture, a joined node and its labels, tolerates its taint in one click, and refuses a bad toleration beside its row', async () => {
      serve();
      const { wrapper } = await mountForm(NewWorkloadDeploy);
      await chooseVdc(wrapper);
      await type(wrapper, 'wl-name-input', 'shop');
      await type(wrapper, 'image-input', 'nginx:1.27');
      // Before a pool is chosen the primary pool's choices show: it has no joined nodes, so no taints to tolerate.
      expect(wrapper.find('[data-test="join-taints"]').text()).toContain('have no taints');
      await choose(wrapper, 'pool-select', 'pool-option-edge-1');
      await choose(wrapper, 'arch-select', 'arch-option-arm64');
      await choose(wrapper, 'node-select', 'node-option-shop-12');
      await wrapper.find('[data-test="vdc-nodes"]').trigger('click');
      await settle();
      expect((wrapper.find('input[data-test="node-labels-key-0"]').element as HTMLInputElement).value).toBe('edgeport.io/vdc');

      const oneClick = wrapper.find('[data-test="tolerate-edgeport.io/dedicated=demo:NoSchedule"]');
      expect(oneClick.text()).toBe('Tolerate edgeport.io/dedicated=demo:NoSchedule');
      await oneClick.trigger('click');
      await settle();
      expect(oneClick.attributes('disabled')).toBeDefined();

      // A second toleration with a key that is not a label key: refused beside its row, nothing submitted.
      await wrapper.find('[data-test="toleration-add"]').trigger('click');
      await settle();
      await type(wrapper, 'toleration-key-1', 'not a key!');
      await review(wrapper);
      await vi.waitFor(() => expect(fieldError('toleration-row-1')).toMatch(/label key/));
      expect(previewOpen()).toBe(false);
      await wrapper.find('[data-test="toleration-row-1"] button').trigger('click');
      await settle();

      await review(wrapper);
      expect(document.querySelector('[data-test="preview-dialog"]')?.textContent).toContain('edgeport.io/dedicated=demo:NoSchedule');
      await confirm();
      expect(submissions()).toEqual([
        {
          type: 'workload-deploy',
          vdcId: 'demo',
          workload: {
            kind: 'Deployment',
            name: 'shop',
            replicas: 1,
            containers: [{ name: 'app', image: 'nginx:1.27' }],
            pool: 'edge-1',
            nodeSelector: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': 'shop-12', 'edgeport.io/vdc': 'demo' },
            tolerations: [{ key: 'edgeport.io/dedicated', operator: 'Equal', value: 'demo', effect: 'NoSchedule' }],
          },
        },
      ]);
      wrapper.unmount();
    });

    it('shows the placement fields in Chinese', async () => {
      i18n.global.locale.value = 'zh-CN';
      serve();
      const { wrapper } = await mountForm(NewWorkloadDeploy);
      expect(wrapper.find('[data-test="pool-item"]').text()).toContain('资源池');
      expect(wrapper.find('[data-test="tolerations-item"]').text()).toContain('添加容忍');
      wrapper.unmount();
    });
  });

  describe('type chooser', () => {
    it('opens each type’s form from the URL and switches by the chooser', async () => {
      serve();
      const { wrapper, router } = await mountForm(NewRequest, '/tickets/new/node-join');
      expect(wrapper.find('[data-test="node-join-form"]').exists()).toBe(true);
      (wrapper.find('[data-test="type-workload-deploy"] input').element as HTMLInputElement).click();
      await settle();
      expect(router.currentRoute.value.params.type).toBe('workload-deploy');
      expect(wrapper.find('[data-test="workload-form"]').exists()).toBe(true);
      await router.push('/tickets/new');
      await settle();
      expect(wrapper.find('[data-test="quota-form"]').exists()).toBe(true);
      wrapper.unmount();
    });
  });
});
