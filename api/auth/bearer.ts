import type { RequestHandler, Response } from 'express';
import { InputError, UnauthorizedError } from '../errors.ts';
import type { ApiTokenAuth, ApiTokenService } from '../services/api-tokens.ts';

/** The API token this request authenticated with, if any (set by {@link bearerAuth}). */
export function apiTokenOf(res: Response): ApiTokenAuth | undefined {
  return res.locals.apiToken as ApiTokenAuth | undefined;
}

/**
 * `Authorization: Bearer ep_…` on /api: a valid, unexpired, unrevoked token makes its user the request's
 * user (replacing any session user); anything else under the Bearer scheme is a 401 problem, never a
 * fallback to the session. Requests without a Bearer header pass through to the session check. A request
 * with both a signed-in session and a token is refused (400): one request, one identity, and the session's
 * own upkeep (token refresh) never runs on behalf of a token's user. Mount before `requireUser`;
 * `loadCaller` then cuts the grants down to the token's permissions.
 */
export function bearerAuth(tokens: Pick<ApiTokenService, 'authenticate'>): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const m = header ? /^bearer(?:\s+(\S*))?\s*$/i.exec(header) : null;
    if (!header || (!m && !/^bearer\b/i.test(header))) return next();
    try {
      const { user, token } = await tokens.authenticate(m?.[1] ?? '');
      if (req.user)
        throw new InputError('send either a session cookie or an API token, not both', [{ field: 'Authorization', message: 'not with a signed-in session' }]);
      req.user = user;
      res.locals.apiToken = token;
      next();
    } catch (err) {
      if (err instanceof UnauthorizedError) res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw err;
    }
  };
}
