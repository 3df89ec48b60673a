import { mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { describe, expect, it } from 'vitest';
import { h } from 'vue';
import { ApiError } from '../api/http.ts';
import { i18n } from '../locales/index.ts';
import CrudTable from './CrudTable.vue';

const base = {
  title: 'Things',
  rows: [{ id: 'a', name: 'Alpha' }],
  loading: false,
  error: null as ApiError | null,
  emptyText: 'None yet',
  testId: 'things-view',
  tableTestId: 'things-table',
  createLabel: 'New thing',
  createTestId: 'new-thing',
};

function mountTable(props: Partial<typeof base> & { canCreate?: boolean; createDisabled?: boolean } = {}) {
  return mount(CrudTable, {
    props: { ...base, ...props },
    slots: { default: () => h('div', { 'data-test': 'columns' }) },
    global: { plugins: [ElementPlus, i18n] },
  });
}

describe('CrudTable', () => {
  it('shows the title, refresh and create, and emits them', async () => {
    const w = mountTable();
    expect(w.find('[data-test="things-view"]').text()).toContain('Things');
    expect(w.find('[data-test="things-table"]').exists()).toBe(true);
    await w.find('[data-test="new-thing"]').trigger('click');
    expect(w.emitted('create')).toHaveLength(1);
    await w.findAll('.card-header button')[0]!.trigger('click');
    expect(w.emitted('refresh')).toHaveLength(1);
  });

  it('hides create when not allowed and disables it on request', () => {
    expect(mountTable({ canCreate: false }).find('[data-test="new-thing"]').exists()).toBe(false);
    expect(mountTable({ createDisabled: true }).find('[data-test="new-thing"]').attributes('disabled')).toBeDefined();
  });

  it('shows the load error instead of the table, and retries through refresh', async () => {
    const w = mountTable({ error: new ApiError({ type: 'about:blank', title: 'Gone wrong', status: 500 }) });
    expect(w.find('[data-test="things-table"]').exists()).toBe(false);
    expect(w.find('[data-test="load-error"]').text()).toContain('Gone wrong');
    await w.find('[data-test="load-error"] button').trigger('click');
    expect(w.emitted('refresh')).toHaveLength(1);
  });
});
