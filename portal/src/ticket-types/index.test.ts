import { TICKET_TYPES, type SubmitTicket, type TicketPreview } from '@common/tickets';
import { mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { describe, expect, it } from 'vitest';
import PreviewDetails from '../components/tickets/PreviewDetails.vue';
import { i18n } from '../locales/index.ts';
import { REQUESTABLE_TYPES, TICKET_TYPE_REGISTRY, ticketSummary } from './index.ts';

describe('ticket type registry', () => {
  it('has one entry per ticket type, under its own name', () => {
    expect(Object.keys(TICKET_TYPE_REGISTRY).sort()).toEqual([...TICKET_TYPES].sort());
    for (const tt of TICKET_TYPES) expect(TICKET_TYPE_REGISTRY[tt].type).toBe(tt);
  });

  it('offers a form for every type but those requested from other pages, in TICKET_TYPES order', () => {
    expect(REQUESTABLE_TYPES).toEqual(TICKET_TYPES.filter((tt) => tt !== 'image-publish' && tt !== 'workload-operation'));
    expect(REQUESTABLE_TYPES[0]).toBe('quota-change');
  });

  it('has a label and a chooser label in both languages for every type', () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const tt of TICKET_TYPES) expect(i18n.global.te(`ticketType.${tt}`, locale), `${locale} ticketType.${tt}`).toBe(true);
      for (const tt of REQUESTABLE_TYPES) expect(i18n.global.te(`requests.short.${tt}`, locale), `${locale} requests.short.${tt}`).toBe(true);
    }
  });

  it('summarises a payload by its type', () => {
    const cases: [SubmitTicket, ReturnType<typeof ticketSummary>][] = [
      [
        { type: 'quota-change', vdcId: 'demo', quota: { cpu: 2 } },
        { kind: 'quota', quota: { cpu: 2 } },
      ],
      [
        { type: 'quota-lease', vdcId: 'demo', quota: { pods: 5 }, durationHours: 4 },
        { kind: 'quota', quota: { pods: 5 } },
      ],
      [
        { type: 'space-create', vdcId: 'demo', name: 'web' },
        { kind: 'text', text: '+ web' },
      ],
      [
        { type: 'space-delete', vdcId: 'demo', name: 'web' },
        { kind: 'text', text: '− web' },
      ],
      [
        { type: 'workload-rollback', vdcId: 'demo', name: 'api', revision: 3 },
        { kind: 'text', text: 'api → revision 3' },
      ],
      [
        { type: 'workload-rollback', vdcId: 'demo', name: 'api' },
        { kind: 'text', text: 'api → previous revision' },
      ],
      [
        { type: 'image-publish', vdcId: 'demo', source: { name: 'demo/app', tag: '1.0' }, target: { visibility: 'public', name: 'app', tag: '1' } },
        { kind: 'text', text: 'demo/app:1.0 → public app:1' },
      ],
    ];
    for (const [payload, summary] of cases) expect(ticketSummary(payload)).toEqual(summary);
  });
});

describe('PreviewDetails', () => {
  const mountFor = (type: (typeof TICKET_TYPES)[number], preview: unknown) =>
    mount(PreviewDetails, { props: { type, preview: preview as TicketPreview }, global: { plugins: [ElementPlus, i18n] } });

  it('picks the view by the ticket type, not by the preview’s shape', () => {
    const labels = { hash: 'h', action: 'create', namespace: 'ns', labels: { tier: 'web' }, workloads: [], checkedAt: '2026-01-01T00:00:00Z' };
    const space = mountFor('space-create', labels);
    expect(space.find('[data-test="preview-labels"]').text()).toContain('tier=web');
    expect(space.find('[data-test="preview-table"]').exists()).toBe(false);

    const quota = {
      hash: 'h',
      namespace: 'ns',
      current: {},
      used: {},
      requested: { cpu: 2 },
      diff: [{ resource: 'cpu', from: 1, to: 2, used: 0.5 }],
      checkedAt: '2026-01-01T00:00:00Z',
    };
    const change = mountFor('quota-change', quota);
    expect(change.find('[data-test="preview-table"]').exists()).toBe(true);
    expect(change.find('[data-test="preview-labels"]').exists()).toBe(false);

    const op = mountFor('workload-operation', {
      hash: 'h',
      namespace: 'ns',
      workload: 'api',
      kind: 'Deployment',
      operation: { op: 'stop' },
      changes: [],
      errors: [],
      checkedAt: '2026-01-01T00:00:00Z',
    });
    expect(op.find('.preview-details').text()).toBe('');
  });
});
