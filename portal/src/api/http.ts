import { ElMessage } from 'element-plus';
import type { Problem } from '@common/problem';
import { i18n } from '../locales/index.ts';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * Every failed API call rejects with this. `errors` holds the server's field errors (problem `errors[]`,
 * fields named by path such as `quota.cpu`); forms show them beside the fields, so no toast is shown
 * for them. `status` is 0 when the server could not be reached.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.status = problem.status;
    this.problem = problem;
  }

  get errors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

/**
 * Lets an {@link ApiError} through and rethrows anything else: a refused or failed call is the caller's to
 * show (it was toasted unless quiet), while any other error is a bug that must not be swallowed.
 * Use as the first line of a `catch`; `e` is an `ApiError` after it.
 */
export function assertApiError(e: unknown): asserts e is ApiError {
  if (!(e instanceof ApiError)) throw e;
}

/**
 * The fetch the client calls. Component tests replace `transport.fetch` with a `vi.fn` returning canned
 * responses; nothing else should touch it.
 */
export const transport: { fetch: typeof fetch } = {
  fetch: (input, init) => globalThis.fetch(input, init),
};

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  /** `true`: never toast (polling); a list: do not toast these statuses (the caller shows them itself). */
  quiet?: true | readonly number[];
  signal?: AbortSignal;
}

let redirecting = false;

/** Sends the browser to the OIDC login, asking to come back to where the user is now. */
export function redirectToLogin(): void {
  if (redirecting) return;
  redirecting = true;
  const here = window.location.pathname + window.location.search + window.location.hash;
  window.location.assign(`/auth/login?returnTo=${encodeURIComponent(here)}`);
}

function toast(error: ApiError, quiet: RequestOptions['quiet']): void {
  if (quiet === true || quiet?.includes(error.status)) return;
  if (error.errors.length > 0) return;
  ElMessage({ type: 'error', message: error.message, grouping: true, showClose: true });
}

async function readProblem(res: Response): Promise<Problem> {
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  const fallback: Problem = {
    type: 'about:blank',
    title: res.status >= 502 && res.status <= 504 ? i18n.global.t('common.unavailable', { status }) : i18n.global.t('common.unexpectedError', { status }),
    status: res.status,
  };
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) return fallback;
  try {
    const body = (await res.json()) as Partial<Problem> | null;
    if (!body || typeof body !== 'object') return fallback;
    return {
      ...fallback,
      ...body,
      status: typeof body.status === 'number' ? body.status : res.status,
      errors: Array.isArray(body.errors) ? body.errors : undefined,
    };
  } catch {
    return fallback;
  }
}

/**
 * One JSON request against the same-origin API. Resolves with the parsed body (undefined for 204).
 * A 401 sends the browser to the login page and never settles, so no error state flashes while the
 * page unloads. Other failures reject with {@link ApiError} after a toast (unless quiet, or the
 * problem carries field errors). Nothing is retried here: polling callers retry on their own schedule.
 */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') params.set(k, v);
  const url = params.size > 0 ? `${path}?${params.toString()}` : path;
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';

  let res: Response;
  try {
    res = await transport.fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    const error = new ApiError({ type: 'about:blank', title: i18n.global.t('common.networkError'), status: 0 });
    toast(error, options.quiet);
    throw error;
  }

  if (res.status === 401) {
    redirectToLogin();
    return new Promise<T>(() => {});
  }
  if (!res.ok) {
    const error = new ApiError(await readProblem(res));
    toast(error, options.quiet);
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const http = {
  get: <T>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>) => request<T>(path, { ...options, method: 'GET' }),
  post: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) => request<T>(path, { ...options, method: 'POST', body }),
};
