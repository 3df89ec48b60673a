import type { VdcView } from '@common/tenancy';
import { onMounted, ref, shallowRef, watch, type Ref, type ShallowRef, type WatchSource } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { assertApiError, type ApiError } from '../api/http.ts';
import { getVdc, listVdcs, type Vdc } from '../api/vdcs.ts';
import type { AsyncState } from './use-async.ts';

export interface VdcPageOptions {
  /**
   * Loads the page's own data for the chosen VDC (run beside `getVdc`). An `ApiError` it throws becomes
   * the page's error state; anything else is rethrown.
   */
  load: (vdcId: string) => Promise<unknown>;
  /** Other choices on the page (a space filter) whose change reloads it like a new VDC does. */
  also?: WatchSource[];
  /** Called when another VDC is chosen, before the reload: reset choices that belong to the old one. */
  onVdcChange?: () => void;
  /**
   * Keep the URL in step with the choices: `vdc` plus these keys (empty values left out). Without it
   * the URL's `?vdc=` is only read once, as a deep link.
   */
  query?: () => Record<string, string | undefined>;
}

export interface VdcPage {
  /** The VDCs the caller may see (the picker's options). */
  vdcs: ShallowRef<Vdc[]>;
  /** The chosen VDC: `?vdc=` when it is one of `vdcs`, else the first. '' when there is none. */
  vdcId: Ref<string>;
  /** The chosen VDC as `GET /api/vdcs/:id` returns it (spaces, namespace), loaded with the page. */
  vdc: ShallowRef<VdcView | null>;
  state: Ref<AsyncState>;
  error: ShallowRef<ApiError | null>;
  /** A load is running (also during a quiet `refresh`). */
  refreshing: Ref<boolean>;
  /** The VDC list then the page: the first load and the error state's retry. */
  start: () => Promise<void>;
  /** The page's data again, with the loading state (rows hidden behind the spinner). */
  reload: () => Promise<void>;
  /** The page's data again, keeping what is shown until it arrives. */
  refresh: () => Promise<void>;
}

/**
 * The VDC-scoped page every tenant view (volumes, config center, security groups, workloads) repeated: list
 * the VDCs, choose one from the URL or the first, load the page for it, reload when another is chosen,
 * with one loading/error state for all of it. Starts on mount.
 */
export function useVdcPage(options: VdcPageOptions): VdcPage {
  const route = useRoute();
  const router = useRouter();
  const vdcs = shallowRef<Vdc[]>([]);
  const vdcId = ref(typeof route.query.vdc === 'string' ? route.query.vdc : '');
  const vdc = shallowRef<VdcView | null>(null);
  const state = ref<AsyncState>('loading');
  const error = shallowRef<ApiError | null>(null);
  const refreshing = ref(false);
  let generation = 0;

  async function fetchPage(spinner: boolean): Promise<void> {
    const id = vdcId.value;
    if (!id) return;
    generation += 1;
    const mine = generation;
    if (spinner || state.value !== 'ready') state.value = 'loading';
    error.value = null;
    refreshing.value = true;
    try {
      const [view] = await Promise.all([getVdc(id), options.load(id)]);
      if (mine !== generation) return;
      vdc.value = view;
      state.value = 'ready';
    } catch (e) {
      assertApiError(e);
      if (mine !== generation) return;
      error.value = e;
      state.value = 'error';
    } finally {
      if (mine === generation) refreshing.value = false;
    }
  }

  async function start(): Promise<void> {
    state.value = 'loading';
    error.value = null;
    try {
      vdcs.value = (await listVdcs()).items;
    } catch (e) {
      assertApiError(e);
      error.value = e;
      state.value = 'error';
      return;
    }
    const before = vdcId.value;
    if (!vdcs.value.some((v) => v.id === vdcId.value)) vdcId.value = vdcs.value[0]?.id ?? '';
    if (!vdcId.value) state.value = 'ready';
    // A newly chosen VDC is loaded by the watcher below.
    else if (vdcId.value === before) await fetchPage(true);
  }

  watch([vdcId, ...(options.also ?? [])], ([id], [oldId]) => {
    if (id !== oldId) options.onVdcChange?.();
    if (options.query) {
      const query = Object.fromEntries(Object.entries({ vdc: vdcId.value, ...options.query() }).filter((e): e is [string, string] => !!e[1]));
      void router.replace({ query });
    }
    void fetchPage(true);
  });
  onMounted(start);

  return { vdcs, vdcId, vdc, state, error, refreshing, start, reload: () => fetchPage(true), refresh: () => fetchPage(false) };
}
