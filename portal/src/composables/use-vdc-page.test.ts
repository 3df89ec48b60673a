import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { ApiError, transport } from '../api/http.ts';
import { i18n } from '../locales/index.ts';
import { useVdcPage, type VdcPage, type VdcPageOptions } from './use-vdc-page.ts';

const VDCS = [
  { id: 'a', name: 'A', domainId: 'd', namespace: 'vdc-a', quota: {} },
  { id: 'b', name: 'B', domainId: 'd', namespace: 'vdc-b', quota: {} },
];
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' } });
const originalFetch = transport.fetch;

function serve(vdcStatus = 200): ReturnType<typeof vi.fn<typeof fetch>> {
  const fetchMock = vi.fn<typeof fetch>(async (input) => {
    const url = String(input);
    if (url === '/api/vdcs')
      return vdcStatus === 200 ? json(200, { items: VDCS }) : json(vdcStatus, { type: 'about:blank', title: 'Unavailable', status: vdcStatus });
    const m = /^\/api\/vdcs\/([^/?]+)$/.exec(url);
    if (m) return json(200, { ...VDCS.find((v) => v.id === m[1]), spaces: [] });
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  });
  transport.fetch = fetchMock;
  return fetchMock;
}

async function mountPage(path: string, options: Omit<VdcPageOptions, 'load'>, load: VdcPageOptions['load']) {
  let page!: VdcPage;
  const Page = defineComponent({
    setup() {
      page = useVdcPage({ ...options, load });
      return () => h('div');
    },
  });
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/p', component: Page }] });
  await router.push(path);
  await router.isReady();
  const wrapper = mount(Page, { global: { plugins: [i18n, router] } });
  await flushPromises();
  return { page, router, wrapper };
}

describe('useVdcPage', () => {
  afterEach(() => {
    transport.fetch = originalFetch;
  });

  it('opens the VDC named in ?vdc= and loads its page once', async () => {
    serve();
    const load = vi.fn(async () => {});
    const { page } = await mountPage('/p?vdc=b', {}, load);
    expect(page.vdcs.value.map((v) => v.id)).toEqual(['a', 'b']);
    expect(page.vdcId.value).toBe('b');
    expect(page.vdc.value?.namespace).toBe('vdc-b');
    expect(page.state.value).toBe('ready');
    expect(load.mock.calls).toEqual([['b']]);
  });

  it('falls back to the first VDC for an unknown one and reloads when another is chosen', async () => {
    serve();
    const load = vi.fn(async () => {});
    const { page } = await mountPage('/p?vdc=gone', {}, load);
    expect(page.vdcId.value).toBe('a');
    expect(load.mock.calls).toEqual([['a']]);
    page.vdcId.value = 'b';
    await flushPromises();
    expect(load.mock.calls).toEqual([['a'], ['b']]);
  });

  it('shows a refused page load as the error state and retries with start', async () => {
    serve();
    let fail = true;
    const load = vi.fn(async () => {
      if (fail) throw new ApiError({ type: 'about:blank', title: 'Forbidden', status: 403 });
    });
    const { page } = await mountPage('/p', {}, load);
    expect(page.state.value).toBe('error');
    expect(page.error.value?.status).toBe(403);
    fail = false;
    await page.start();
    await flushPromises();
    expect(page.state.value).toBe('ready');
    expect(page.error.value).toBeNull();
  });

  it('shows a failed VDC list as the error state', async () => {
    serve(503);
    const load = vi.fn(async () => {});
    const { page } = await mountPage('/p', {}, load);
    expect(page.state.value).toBe('error');
    expect(load).not.toHaveBeenCalled();
  });

  it('keeps the URL in step with the choices when asked, and resets per-VDC choices on a new VDC', async () => {
    serve();
    const space = ref('web');
    const onVdcChange = vi.fn(() => {
      space.value = '';
    });
    const { page, router } = await mountPage('/p?vdc=a', { also: [space], onVdcChange, query: () => ({ space: space.value }) }, async () => {});
    space.value = 'api';
    await flushPromises();
    expect(router.currentRoute.value.query).toEqual({ vdc: 'a', space: 'api' });
    page.vdcId.value = 'b';
    await flushPromises();
    expect(onVdcChange).toHaveBeenCalledTimes(1);
    expect(router.currentRoute.value.query).toEqual({ vdc: 'b' });
  });

  it('keeps the page shown during a quiet refresh', async () => {
    serve();
    let release!: () => void;
    const { page } = await mountPage('/p', {}, async () => {});
    const slow = new Promise<void>((r) => (release = r));
    transport.fetch = vi.fn<typeof fetch>(async (input) => {
      await slow;
      return json(200, { ...VDCS[0], spaces: [], url: String(input) });
    });
    const pending = page.refresh();
    expect(page.state.value).toBe('ready');
    expect(page.refreshing.value).toBe(true);
    release();
    await pending;
    expect(page.refreshing.value).toBe(false);
  });
});
