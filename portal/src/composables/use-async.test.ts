import { describe, expect, it } from 'vitest';
import { ApiError, assertApiError } from '../api/http.ts';
import { useAsync } from './use-async.ts';

const refusal = () => new ApiError({ type: 'about:blank', title: 'Forbidden', status: 403 });

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('useAsync', () => {
  it('starts loading, then holds the data', async () => {
    const a = useAsync(async (n: number) => n * 2);
    expect(a.state.value).toBe('loading');
    expect(a.loading.value).toBe(true);
    await expect(a.run(21)).resolves.toBe(42);
    expect(a.state.value).toBe('ready');
    expect(a.data.value).toBe(42);
    expect(a.error.value).toBeNull();
  });

  it('turns an ApiError into the error state and clears it on the next run', async () => {
    let fail = true;
    const a = useAsync(async () => {
      if (fail) throw refusal();
      return 'ok';
    });
    await expect(a.run()).resolves.toBeUndefined();
    expect(a.state.value).toBe('error');
    expect(a.error.value?.status).toBe(403);
    fail = false;
    const again = a.run();
    expect(a.error.value).toBeNull();
    expect(a.state.value).toBe('loading');
    await again;
    expect(a.state.value).toBe('ready');
  });

  it('rethrows anything that is not an ApiError', async () => {
    const a = useAsync(async () => {
      throw new TypeError('bug');
    });
    await expect(a.run()).rejects.toThrow('bug');
  });

  it('lets only the latest of overlapping runs set the state', async () => {
    const first = deferred<string>();
    const second = deferred<string>();
    const queue = [first, second];
    const a = useAsync(() => queue.shift()!.promise);
    const r1 = a.run();
    const r2 = a.run();
    second.resolve('new');
    await r2;
    first.reject(refusal());
    await r1;
    expect(a.state.value).toBe('ready');
    expect(a.data.value).toBe('new');
    expect(a.error.value).toBeNull();
  });
});

describe('assertApiError', () => {
  it('passes an ApiError and rethrows anything else', () => {
    expect(() => assertApiError(refusal())).not.toThrow();
    expect(() => assertApiError(new Error('bug'))).toThrow('bug');
  });
});
