import type { TicketStatus } from '@common/tickets';
import { mount, type VueWrapper } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { transport } from '../../api/http.ts';
import { i18n } from '../../locales/index.ts';
import { ROUTE } from '../../router/names.ts';
import TicketDetail from './TicketDetail.vue';

/**
 * Live status of the ticket page under fake timers: polls back off 1, 2, 4, 8 s up to 10 s, start over at
 * 1 s when the status changes, keep the ticket shown through a failed poll, and stop at a final status, at a
 * 404 and when the page is left. The api's fetch answers from a script of statuses; the clock is vitest's.
 */

const ID = 'tkt-poll-abcdef';
const T0 = new Date('2026-12-01T08:00:00Z');

function ticket(status: TicketStatus) {
  return {
    id: ID,
    type: 'quota-change',
    status,
    requester: { sub: 'u-tenant', name: 'Tina Tenant' },
    vdcId: 'demo',
    vdcName: 'demo',
    domainId: 'd1',
    payload: { type: 'quota-change', vdcId: 'demo', quota: { cpu: 6 } },
    policy: { version: 'p1', outcome: 'approval', reason: 'over the auto-approve limit', chain: [{ step: 0, role: 'vdc-admin', label: 'VDC admin' }] },
    approvals: [{ step: 0, role: 'vdc-admin', deadline: new Date(T0.getTime() + 3_600_000).toISOString() }],
    currentStep: 0,
    preview: { hash: 'h', namespace: 'vdc-demo', current: { cpu: 4 }, used: { cpu: 1 }, requested: { cpu: 6 }, diff: [], checkedAt: T0.toISOString() },
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    canDecide: false,
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

/** One answer per ticket read, in order; the last one repeats. A number is an error status. */
type Answer = TicketStatus | number;

const originalFetch = transport.fetch;
/** Fake-clock time (ms since mount) of every read of the ticket. */
let reads: number[] = [];
let start = 0;
let wrapper: VueWrapper | undefined;

function serve(script: Answer[]): void {
  reads = [];
  transport.fetch = vi.fn<typeof fetch>(async (input) => {
    const url = String(input);
    if (url === `/api/tickets/${ID}/timeline`) return json(200, { items: [] });
    if (url === `/api/tickets/${ID}`) {
      reads.push(Date.now() - start);
      const answer = script[Math.min(reads.length - 1, script.length - 1)]!;
      return typeof answer === 'number' ? json(answer, { type: 'about:blank', title: 'error', status: answer }) : json(200, ticket(answer));
    }
    return json(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  });
}

async function mountDetail(): Promise<VueWrapper> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/tickets/:id', name: ROUTE.ticketDetail, component: { render: () => null } },
      { path: '/tickets', name: ROUTE.myTickets, component: { render: () => null } },
    ],
  });
  await router.push(`/tickets/${ID}`);
  start = Date.now();
  wrapper = mount(TicketDetail, { props: { id: ID }, attachTo: document.body, global: { plugins: [ElementPlus, createPinia(), i18n, router] } });
  await vi.advanceTimersByTimeAsync(0);
  return wrapper;
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);
const statusShown = (w: VueWrapper): string => w.find('[data-test="ticket-status"]').text();
const liveShown = (w: VueWrapper): boolean => w.find('[data-test="live"]').exists();

describe('ticket detail live status (polling with backoff)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    i18n.global.locale.value = 'en';
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    wrapper?.unmount();
    wrapper = undefined;
    vi.useRealTimers();
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    document.body.innerHTML = '';
  });

  it('backs off 1, 2, 4, 8 s and then polls every 10 s while the status stays', async () => {
    serve(['pending_approval']);
    const w = await mountDetail();
    expect(reads).toEqual([0]);
    expect(liveShown(w)).toBe(true);

    await vi.advanceTimersByTimeAsync(999);
    expect(reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toEqual([0, 1_000]);

    await vi.advanceTimersByTimeAsync(45_000 - 1_000);
    expect(gaps(reads)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(statusShown(w)).toBe('pending_approval');
  });

  it('starts over at 1 s when the status changes, and stops at the final status', async () => {
    // Reads at 0, 1, 3 s pending; 7 s executing (changed: next in 1 s); 8, 10 s executing; 14 s completed.
    serve(['pending_approval', 'pending_approval', 'pending_approval', 'executing', 'executing', 'executing', 'completed']);
    const w = await mountDetail();

    await vi.advanceTimersByTimeAsync(7_000);
    expect(reads).toEqual([0, 1_000, 3_000, 7_000]);
    expect(statusShown(w)).toBe('executing');
    expect(liveShown(w)).toBe(true);

    await vi.advanceTimersByTimeAsync(7_000);
    expect(reads).toEqual([0, 1_000, 3_000, 7_000, 8_000, 10_000, 14_000]);
    expect(statusShown(w)).toBe('completed');
    expect(liveShown(w)).toBe(false);

    await vi.advanceTimersByTimeAsync(120_000);
    expect(reads).toHaveLength(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each(['rejected', 'failed', 'cancelled', 'compensated'] as const)('does not poll a ticket that is already %s', async (status) => {
    serve([status]);
    const w = await mountDetail();
    expect(statusShown(w)).toBe(status);
    expect(liveShown(w)).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toEqual([0]);
  });

  it('keeps the ticket shown through a failed poll and keeps backing off', async () => {
    serve(['executing', 503, 'executing']);
    const w = await mountDetail();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads).toEqual([0, 1_000]);
    expect(statusShown(w)).toBe('executing');
    expect(w.find('[data-test="detail-loading"]').exists()).toBe(false);

    await vi.advanceTimersByTimeAsync(6_000);
    expect(gaps(reads)).toEqual([1_000, 2_000, 4_000]);
    expect(statusShown(w)).toBe('executing');
  });

  it('stops when the ticket disappears (404) and shows not found', async () => {
    serve(['executing', 'executing', 404]);
    const w = await mountDetail();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reads).toEqual([0, 1_000, 3_000]);
    expect(w.find('[data-test="not-found"]').exists()).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toHaveLength(3);
  });

  it('stops when the page is left', async () => {
    serve(['executing']);
    const w = await mountDetail();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reads).toEqual([0, 1_000, 3_000]);
    w.unmount();
    wrapper = undefined;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toHaveLength(3);
  });
});
