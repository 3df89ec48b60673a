import { setTimeout as sleep } from 'node:timers/promises';
import { loginAs } from '../../api/auth/test-login.ts';
import type { TicketView } from '../../common/tickets.ts';
import { demoUserByUsername } from '../../stack/oidc/demo-users.ts';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
}

/** A ticket as the API shows it to one caller. */
export type TicketWithCaps = TicketView & { canDecide: boolean };

/**
 * The API as the demo users see it over HTTP: one session cookie per user (logged in through the real
 * OpenID provider). `call` answers status 0 when the API could not be reached at all.
 */
export class ApiClient {
  private readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async login(...usernames: string[]): Promise<void> {
    for (const u of usernames) {
      const user = demoUserByUsername(u);
      if (!user) throw new Error(`no demo user ${u}`);
      this.cookies.set(u, await loginAs(this.base, u, user.password));
    }
  }

  async call<T = unknown>(user: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers: { cookie: this.cookies.get(user) ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON (e.g. a proxy error page) */
      }
      return { status: res.status, body: parsed as T };
    } catch {
      return { status: 0, body: undefined as T };
    }
  }

  /**
   * Retries while the API is unreachable or answers 5xx (a dependency restarting), up to `timeoutMs`.
   * Safe for submits only with an idempotency key, and for decisions (a repeated one is a 409).
   */
  async retrying<T = unknown>(
    user: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    timeoutMs = 180_000,
  ): Promise<HttpResult<T>> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 200; ; delay = Math.min(delay * 2, 3000)) {
      const r = await this.call<T>(user, method, path, body, headers);
      if ((r.status !== 0 && r.status < 500) || Date.now() > deadline) return r;
      await sleep(delay);
    }
  }

  ticket(user: string, id: string): Promise<HttpResult<TicketWithCaps>> {
    return this.retrying<TicketWithCaps>(user, 'GET', `/api/tickets/${id}`);
  }
}
