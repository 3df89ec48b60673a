import { computed, shallowRef, type ComputedRef, type Ref, type ShallowRef } from 'vue';
import { assertApiError, type ApiError } from '../api/http.ts';

/** Where a page or panel is with its data: waiting for it, showing it, or showing why it failed. */
export type AsyncState = 'loading' | 'ready' | 'error';

export interface UseAsyncOptions {
  /**
   * Runs only on demand (a drawer's content, a tab): starts `'ready'` with no data instead of `'loading'`.
   * Default `false`: the first run is expected right away (on mount), so nothing flashes empty first.
   */
  lazy?: boolean;
}

export interface UseAsync<A extends unknown[], T> {
  /** `'loading'` from the start unless `lazy`. */
  state: Ref<AsyncState>;
  /** The last run's refusal or failure; cleared when a run starts. */
  error: ShallowRef<ApiError | null>;
  /** The last successful run's result. */
  data: ShallowRef<T | undefined>;
  loading: ComputedRef<boolean>;
  /**
   * Runs the loader. An {@link ApiError} sets `error`/`state` and resolves to `undefined`; anything
   * else is rethrown (a bug, not a failed call). When runs overlap, only the latest one sets the state.
   */
  run: (...args: A) => Promise<T | undefined>;
}

/**
 * The loading/error/data state machine every list and detail page had its own copy of: `state` drives
 * the skeleton / `LoadError` / content switch, `run` is both the first load and the retry.
 */
export function useAsync<A extends unknown[], T>(loader: (...args: A) => Promise<T>, options: UseAsyncOptions = {}): UseAsync<A, T> {
  const state = shallowRef<AsyncState>(options.lazy ? 'ready' : 'loading');
  const error = shallowRef<ApiError | null>(null);
  const data = shallowRef<T | undefined>(undefined);
  let generation = 0;

  async function run(...args: A): Promise<T | undefined> {
    generation += 1;
    const mine = generation;
    state.value = 'loading';
    error.value = null;
    try {
      const value = await loader(...args);
      if (mine === generation) {
        data.value = value;
        state.value = 'ready';
      }
      return value;
    } catch (e) {
      assertApiError(e);
      if (mine === generation) {
        error.value = e;
        state.value = 'error';
      }
      return undefined;
    }
  }

  return { state, error, data, loading: computed(() => state.value === 'loading'), run };
}
