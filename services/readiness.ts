/**
 * Readiness of a process's dependencies (`/readyz` on the api and the worker): every check runs at once,
 * each bounded by `timeoutMs`, so a frozen dependency makes the probe answer "not ready" in time instead of
 * hanging it. Errors are reported by kind only (no URLs, hosts or credentials reach the probe's body).
 */
export type DependencyName = 'mongodb' | 'redis' | 'temporal' | 'oidc' | 'worker';

export interface DependencyCheck {
  name: DependencyName;
  /** Resolves when the dependency answered; `signal` aborts when the check's time is up. */
  check(signal: AbortSignal): Promise<unknown>;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
  /** The dependency did not answer within the bound (as opposed to refusing or failing at once). */
  timedOut?: boolean;
}

export interface Readiness {
  ready: boolean;
  checks: Partial<Record<DependencyName, CheckResult>>;
}

class CheckTimeout extends Error {}

async function runCheck(c: DependencyCheck, timeoutMs: number): Promise<CheckResult> {
  const t0 = performance.now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new CheckTimeout());
    }, timeoutMs);
  });
  const ms = (): number => Math.round(performance.now() - t0);
  try {
    await Promise.race([c.check(ac.signal), timeout]);
    return { ok: true, ms: ms() };
  } catch (err) {
    return err instanceof CheckTimeout
      ? { ok: false, ms: ms(), error: `no answer within ${timeoutMs} ms`, timedOut: true }
      : { ok: false, ms: ms(), error: 'unavailable' };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check in parallel; ready only when all pass. */
export async function checkReadiness(checks: DependencyCheck[], timeoutMs: number): Promise<Readiness> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}
