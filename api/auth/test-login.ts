/**
 * Test helper: signs in through the real OpenID flow the way a browser does (fetch with manual redirects and
 * a cookie jar spanning the API and provider origins) and returns the API session's `Cookie` header.
 */

interface JarCookie {
  name: string;
  value: string;
  path: string;
}

/** Host-only cookies per origin, with path matching; enough for the API and the local provider. */
class CookieJar {
  private readonly byOrigin = new Map<string, JarCookie[]>();

  store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url);
      let expired = false;
      for (const attr of attrs) {
        const [k = '', v = ''] = attr.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const list = (this.byOrigin.get(url.origin) ?? []).filter((c) => !(c.name === name && c.path === path));
      if (!expired) list.push({ name, value, path });
      this.byOrigin.set(url.origin, list);
    }
  }

  header(url: URL): string {
    return (this.byOrigin.get(url.origin) ?? [])
      .filter((c) => pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

function defaultPath(url: URL): string {
  const i = url.pathname.lastIndexOf('/');
  return i <= 0 ? '/' : url.pathname.slice(0, i);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Thrown by {@link loginAs} when the provider refuses the credentials or the flow ends somewhere unexpected. */
export class TestLoginError extends Error {
  override name = 'TestLoginError';
}

const MAX_HOPS = 20;

/**
 * Logs `username` in through `<baseUrl>/auth/login` → provider login form → `/auth/callback` and returns
 * the `Cookie` header value for the API (`edgeport.sid=…`). Stops at the first redirect back to a non-`/auth/`
 * page of the API (the page itself is not fetched). Throws {@link TestLoginError} on a wrong password.
 */
export async function loginAs(baseUrl: string, username: string, password: string): Promise<string> {
  const api = new URL(baseUrl);
  const jar = new CookieJar();

  const request = async (url: URL, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'text/html' };
    const cookie = jar.header(url);
    if (cookie) headers.Cookie = cookie;
    if (init.body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    jar.store(url, res.headers);
    return res;
  };

  let url = new URL('/auth/login?returnTo=%2F', api);
  let res = await request(url);
  let submitted = false;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      if (!location) throw new TestLoginError(`redirect without Location from ${url.href}`);
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin === api.origin && next.searchParams.has('authError')) throw new TestLoginError(`login failed: ${next.searchParams.get('authError')}`);
      if (next.origin === api.origin && !next.pathname.startsWith('/auth/')) {
        const cookie = jar.header(new URL('/', api));
        if (!cookie.includes('edgeport.sid=')) throw new TestLoginError('login finished without an API session cookie');
        return cookie;
      }
      url = next;
      res = await request(url);
      continue;
    }
    const html = await res.text();
    if (res.status === 401 || /id="error"/.test(html)) throw new TestLoginError(`provider refused the credentials of ${username}`);
    if (submitted || !res.ok) throw new TestLoginError(`unexpected ${res.status} page at ${url.href}`);
    const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
    if (!action || !/id="username"/.test(html)) throw new TestLoginError(`no login form at ${url.href}`);
    url = new URL(action.replace(/&amp;/g, '&'), url);
    res = await request(url, { method: 'POST', body: new URLSearchParams({ username, password }) });
    submitted = true;
  }
  throw new TestLoginError(`login did not finish within ${MAX_HOPS} redirects`);
}
