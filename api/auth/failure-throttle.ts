/**
 * Bounds how many failed logins per client address reach the audit log: anyone can hit the callback with
 * garbage, and every audit entry is a hash-chained write. Within a window an address gets `perWindow`
 * entries; later failures are only counted, and the next admitted entry reports how many were skipped, so
 * the trail still shows a burst without one write per request. State is per process and capped in size
 * (oldest addresses dropped first), so a spray from many addresses cannot grow it without bound.
 */
export interface FailureThrottleOptions {
  perWindow?: number;
  windowMs?: number;
  maxAddresses?: number;
}

export interface FailureVerdict {
  /** Whether this failure is written to the audit log. */
  audit: boolean;
  /** Failures of this address not audited since its last audited one (set only when `audit`). */
  suppressed: number;
}

interface Slot {
  windowStart: number;
  admitted: number;
  suppressed: number;
}

export function failureThrottle(opts: FailureThrottleOptions = {}) {
  const perWindow = opts.perWindow ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const maxAddresses = opts.maxAddresses ?? 10_000;
  const slots = new Map<string, Slot>();

  return {
    admit(address: string | undefined, nowMs: number): FailureVerdict {
      const key = address ?? 'unknown';
      let slot = slots.get(key);
      if (!slot || nowMs - slot.windowStart >= windowMs) {
        const carried = slot?.suppressed ?? 0;
        slots.delete(key);
        if (slots.size >= maxAddresses) {
          const oldest = slots.keys().next().value;
          if (oldest !== undefined) slots.delete(oldest);
        }
        slot = { windowStart: nowMs, admitted: 0, suppressed: carried };
        slots.set(key, slot);
      }
      if (slot.admitted >= perWindow) {
        slot.suppressed += 1;
        return { audit: false, suppressed: 0 };
      }
      slot.admitted += 1;
      const suppressed = slot.suppressed;
      slot.suppressed = 0;
      return { audit: true, suppressed };
    },
    /** Addresses currently tracked (for tests). */
    size: (): number => slots.size,
  };
}
export type FailureThrottle = ReturnType<typeof failureThrottle>;
