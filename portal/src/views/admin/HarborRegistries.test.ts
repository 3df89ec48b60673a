import { flushPromises, mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { transport } from '../../api/http.ts';
import { i18n } from '../../locales/index.ts';
import HarborRegistryForm from '../../components/registries/HarborRegistryForm.vue';
import HarborRegistries from './HarborRegistries.vue';

/** The third-party registries view: the table, a refused connect naming `password` on its field, browsing down to pull commands. */

const REG = {
  id: 'hub',
  name: 'Hub',
  url: 'https://harbor.example.com',
  username: 'admin',
  status: 'connected',
  projectCount: 1,
  checkedAt: '2026-01-01T00:00:00Z',
  checkMs: 20,
  createdBy: { sub: 'u', name: 'U' },
  createdAt: '2026-01-01T00:00:00Z',
};

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const originalFetch = transport.fetch;
let posts: unknown[] = [];

function serve(): void {
  posts = [];
  transport.fetch = vi.fn<typeof fetch>(async (input, init = {}) => {
    const url = new URL(String(input), 'http://x');
    if (url.pathname === '/api/harbor-registries' && init.method === 'POST') {
      posts.push(JSON.parse(String(init.body)));
      return json(400, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'invalid request: password',
        errors: [{ field: 'password', message: 'Harbor refused the credentials (401 Unauthorized)' }],
      });
    }
    if (url.pathname === '/api/harbor-registries') return json(200, { items: [REG] });
    if (url.pathname === '/api/harbor-registries/hub/browse') {
      if (url.searchParams.get('repository'))
        return json(200, { level: 'tags', repository: 'lib/app', tags: [{ tag: 'v1', pullCommand: 'docker pull harbor.example.com/lib/app:v1' }] });
      if (url.searchParams.get('project')) return json(200, { level: 'repositories', project: 'lib', repositories: ['lib/app'] });
      return json(200, { level: 'projects', projects: [{ name: 'lib', public: true, repoCount: 1 }] });
    }
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('HarborRegistries view', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'en';
    const warn = console.warn.bind(console);
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      if (!String(args[0]).includes('unexpected width')) warn(...args);
    });
    serve();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    document.body.innerHTML = '';
  });

  it('lists registries; a refused connect shows the server message on the password field', async () => {
    const view = mount(HarborRegistries, { attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n] } });
    await settle();
    expect(document.querySelector('[data-test="registries-table"]')?.textContent).toContain('https://harbor.example.com');
    view.unmount();
    const form = mount(HarborRegistryForm, { attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n] } });
    const set = async (field: string, value: string) => {
      await form.find(`input[data-test="registry-${field}-input"]`).setValue(value);
      await settle();
    };
    await set('id', 'hub2');
    await set('name', 'Hub 2');
    await set('url', 'https://harbor2.example.com');
    await set('username', 'admin');
    await set('password', 'wrong');
    await form.find('form').trigger('submit');
    await settle();
    expect(posts).toEqual([{ id: 'hub2', name: 'Hub 2', url: 'https://harbor2.example.com', username: 'admin', password: 'wrong' }]);
    const item = form.find('[data-test="registry-password-item"]');
    expect(item.classes()).toContain('is-error');
    await vi.waitFor(() => expect(item.element.querySelector('.el-form-item__error')?.textContent).toContain('401 Unauthorized'));
    form.unmount();
  });

  it('browses projects → repositories → tags with the pull command', async () => {
    const wrapper = mount(HarborRegistries, { attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n] } });
    await settle();
    await wrapper.find('[data-test="browse-hub"]').trigger('click');
    await settle();
    const linkIn = (table: string, text: string) =>
      [...document.querySelectorAll(`[data-test="${table}"] a, [data-test="${table}"] .el-link`)].find((a) => a.textContent?.trim() === text) as HTMLElement;
    linkIn('registry-projects', 'lib').click();
    await settle();
    linkIn('registry-repositories', 'lib/app').click();
    await settle();
    expect(document.querySelector('[data-test="registry-tags"]')?.textContent).toContain('docker pull harbor.example.com/lib/app:v1');
    wrapper.unmount();
  });
});
