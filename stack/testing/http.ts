import { loginAs } from '../../api/auth/test-login.ts';
import type { TicketView } from '../../common/tickets.ts';
import { demoUserByUsername } from '../oidc/demo-users.ts';
import { stackEnv } from './env.ts';

/**
 * The one HTTP client integration tests use against a running api process: demo users signed in through the
 * real OpenID flow (one session cookie per user, cached), JSON in and out, and polling helpers that say what
 * they waited for and what they last saw when they give up.
 */

/**
 * A response as tests read it: the status, the JSON body (undefined when empty or not JSON), the raw text and headers.
 * `text`, `headers`, `location` and `ms` are not enumerable: whole results compare and print as `{ status, body }`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read ad-hoc fields of JSON bodies, as their copies did
export interface HttpResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
  /** The `Location` header (set on 201 Created), or null. */
  location: string | null;
  /** Round trip in milliseconds, for files that report timings (never asserted). */
  ms: number;
}

export interface UntilOptions<T> {
  /** What is awaited, for the timeout message. */
  what: string;
  /** When the read value is good enough; by default any value but `undefined`, `null` and `false`. */
  ok?: (value: T) => boolean;
  /** Milliseconds before giving up (default 60 s). */
  timeout?: number;
  /** Milliseconds between reads (default 250). */
  interval?: number;
}

/** Thrown by {@link until} when the value read never became good enough; the message names what and the last value. */
export class UntilTimeoutError extends Error {
  override name = 'UntilTimeoutError';
}

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== false;

/**
 * Reads `read()` until `ok` accepts the value, and returns that value. Errors thrown by `read` are not retried
 * (they end the wait), so a broken read fails at once instead of after the timeout.
 */
export async function until<T>(read: () => Promise<T>, opts: UntilOptions<T> & { ok: (value: T) => boolean }): Promise<T>;
export async function until<T>(read: () => Promise<T>, opts: Omit<UntilOptions<T>, 'ok'>): Promise<Exclude<T, undefined | null | false>>;
export async function until<T>(read: () => Promise<T>, opts: UntilOptions<T>): Promise<T> {
  const { what, ok = present, timeout = 60_000, interval = 250 } = opts;
  const deadline = Date.now() + timeout;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new UntilTimeoutError(`timed out after ${timeout} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, interval));
    last = await read();
  }
  return last;
}

export interface TestHttpOptions {
  /** The api's origin; the test stack's public URL (where the OIDC callback points) by default. */
  base?: string;
  /** Prepended to every `call` path: `'/api'` for files that write `/tickets`, empty for files that write `/api/tickets`. */
  prefix?: string;
}

export interface TestHttp {
  readonly base: string;
  /** Signs the demo users in (once each; later calls reuse the cookie) so `call(user, …)` sends their session. */
  login(...usernames: string[]): Promise<void>;
  /** Signs `username` in again with a fresh session, replacing the cached cookie. */
  relogin(username: string): Promise<void>;
  /** The cached `Cookie` header of a signed-in user (empty for one never signed in). */
  cookie(username: string): string;
  /** A request as `user` (no cookie for a user never signed in); a JSON body is sent with its content type. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see HttpResult
  call<T = any>(user: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult<T>>;
  /** Polls `GET /api/tickets/:id` as `user` until it answers 200 with a ticket `pred` accepts. */
  untilTicket<V = TicketView>(user: string, id: string, pred: (t: V) => boolean, opts?: { timeout?: number; interval?: number }): Promise<V>;
  /** {@link TestHttp.untilTicket} for a status. */
  ticketStatus<V extends { status: string } = TicketView>(user: string, id: string, status: string, opts?: { timeout?: number; interval?: number }): Promise<V>;
}

/** A request body sent as written (with the JSON content type), for tests of malformed JSON. */
export class RawBody {
  constructor(readonly text: string) {}
}

function parseBody(text: string, type: string | null): unknown {
  if (!text) return undefined;
  if (type?.includes('json')) return JSON.parse(text);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A client for one api process; cookies are cached per client (one client per test file). */
export function testHttp(opts: TestHttpOptions = {}): TestHttp {
  const base = opts.base ?? stackEnv('EDGEPORT_PUBLIC_URL');
  const prefix = opts.prefix ?? '';
  const cookies = new Map<string, string>();

  const signIn = async (username: string): Promise<void> => {
    const user = demoUserByUsername(username);
    if (!user) throw new Error(`${username} is not a demo user`);
    cookies.set(username, await loginAs(base, username, user.password));
  };

  const request = async <T>(user: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> => {
    const t0 = performance.now();
    const res = await fetch(url, {
      method,
      headers: { cookie: cookies.get(user) ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : body instanceof RawBody ? body.text : JSON.stringify(body),
    });
    const text = await res.text();
    const result = { status: res.status, body: parseBody(text, res.headers.get('content-type')) as T };
    // Only status and body are enumerable, so `expect(a).toEqual(b)` compares two answers as the copies' results did.
    return Object.defineProperties(result, {
      text: { value: text },
      headers: { value: res.headers },
      location: { value: res.headers.get('location') },
      ms: { value: Math.round(performance.now() - t0) },
    }) as HttpResult<T>;
  };

  const untilTicket = async <V>(user: string, id: string, pred: (t: V) => boolean, o: { timeout?: number; interval?: number } = {}): Promise<V> => {
    const read = async (): Promise<{ status: number; body: V }> => {
      const r = await request<V>(user, 'GET', `${base}/api/tickets/${id}`);
      return { status: r.status, body: r.body };
    };
    return (await until(read, { what: `ticket ${id} to reach the expected state`, ok: (r) => r.status === 200 && pred(r.body), ...o })).body;
  };

  return {
    base,
    async login(...usernames) {
      for (const u of usernames) if (!cookies.has(u)) await signIn(u);
    },
    relogin: signIn,
    cookie: (username) => cookies.get(username) ?? '',
    call: (user, method, path, body, headers) => request(user, method, `${base}${prefix}${path}`, body, headers),
    untilTicket,
    ticketStatus: <V extends { status: string }>(user: string, id: string, status: string, o?: { timeout?: number; interval?: number }) =>
      untilTicket<V>(user, id, (t) => t.status === status, o),
  };
}
