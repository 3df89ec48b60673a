import { setTimeout as sleep } from 'node:timers/promises';

/** One operation of an open-loop run: when it was due, how long it took from then, and whether it succeeded. */
export interface Sample {
  intendedAt: number;
  latencyMs: number;
  ok: boolean;
  status?: number;
}

/**
 * Open-loop (constant arrival rate) load: operation i is due at `start + i / rate`, started then whether or
 * not earlier ones have finished, and its latency is measured from when it was *due*, so a stalled system
 * or a late generator shows up in the figures instead of silently lowering the offered load (no coordinated
 * omission). Returns once every started operation has finished.
 */
export async function openLoop(
  ratePerS: number,
  durationMs: number,
  op: (i: number) => Promise<{ ok: boolean; status?: number }>,
): Promise<{ samples: Sample[]; startedAt: number; endedAt: number }> {
  const samples: Sample[] = [];
  const pending: Promise<void>[] = [];
  const startedAt = performance.now() + 20;
  const total = Math.floor((durationMs / 1000) * ratePerS);
  for (let i = 0; i < total; i++) {
    const intendedAt = startedAt + (i * 1000) / ratePerS;
    const wait = intendedAt - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      op(i).then(
        (r) => void samples.push({ intendedAt, latencyMs: performance.now() - intendedAt, ok: r.ok, ...(r.status !== undefined ? { status: r.status } : {}) }),
        () => void samples.push({ intendedAt, latencyMs: performance.now() - intendedAt, ok: false }),
      ),
    );
  }
  await Promise.all(pending);
  return { samples, startedAt, endedAt: performance.now() };
}

/** The q-quantile (0..1) of `xs` by nearest rank; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Summary {
  count: number;
  ok: number;
  /** Successful operations per second over the run (first due time to last completion). */
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  /** Failed operations by HTTP status (`error` when the request itself failed), so a failure rate has a cause. */
  failures: Record<string, number>;
}

export function summarize(run: { samples: Sample[]; startedAt: number; endedAt: number }): Summary {
  const ok = run.samples.filter((s) => s.ok);
  const lat = ok.map((s) => s.latencyMs);
  return {
    count: run.samples.length,
    ok: ok.length,
    throughput: ok.length / ((run.endedAt - run.startedAt) / 1000),
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    max: lat.length ? Math.max(...lat) : Number.NaN,
    failures: run.samples
      .filter((s) => !s.ok)
      .reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.status ?? 'error']: (acc[s.status ?? 'error'] ?? 0) + 1 }), {}),
  };
}
