import { describe, expect, it } from 'vitest';
import { failureThrottle } from './failure-throttle.ts';

describe('failureThrottle', () => {
  it('admits perWindow failures per address, counts the rest and reports them with the next admitted one', () => {
    const t = failureThrottle({ perWindow: 3, windowMs: 1000 });
    const verdicts = Array.from({ length: 8 }, () => t.admit('10.0.0.1', 0));
    expect(verdicts.map((v) => v.audit)).toEqual([true, true, true, false, false, false, false, false]);
    // Another address has its own budget.
    expect(t.admit('10.0.0.2', 10)).toEqual({ audit: true, suppressed: 0 });
    // Next window: the 5 skipped failures are reported once, then the count starts over.
    expect(t.admit('10.0.0.1', 1000)).toEqual({ audit: true, suppressed: 5 });
    expect(t.admit('10.0.0.1', 1001)).toEqual({ audit: true, suppressed: 0 });
  });

  it('keeps at most maxAddresses addresses, dropping the oldest', () => {
    const t = failureThrottle({ perWindow: 1, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 1000; i += 1) t.admit(`10.0.${i >> 8}.${i & 255}`, i);
    expect(t.size()).toBe(100);
    // The newest address is still throttled; an evicted one starts afresh.
    expect(t.admit('10.0.3.231', 2000).audit).toBe(false);
    expect(t.admit('10.0.0.0', 2000).audit).toBe(true);
  });
});
