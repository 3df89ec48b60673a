import { describe, expect, it } from 'vitest';
import { until, UntilTimeoutError } from './http.ts';

describe('until', () => {
  it('returns the first value ok accepts', async () => {
    let n = 0;
    expect(await until(async () => ++n, { what: 'three reads', ok: (v) => v === 3, interval: 1 })).toBe(3);
  });

  it('by default waits for a value that is not undefined, null or false', async () => {
    const values = [undefined, null, false, { id: 'x' }];
    expect(await until(async () => values.shift(), { what: 'a value', interval: 1 })).toEqual({ id: 'x' });
  });

  it('gives up naming what it waited for and the last value read', async () => {
    const err = await until(async () => ({ status: 'pending' }), {
      what: 'ticket t-1 completed',
      ok: (t) => t.status === 'completed',
      timeout: 20,
      interval: 5,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntilTimeoutError);
    expect((err as Error).message).toMatch(/waiting for ticket t-1 completed; last: \{"status":"pending"\}$/);
  });

  it('does not retry a read that throws', async () => {
    let reads = 0;
    await expect(
      until(
        async () => {
          reads++;
          throw new Error('boom');
        },
        { what: 'x', interval: 1 },
      ),
    ).rejects.toThrow('boom');
    expect(reads).toBe(1);
  });
});
