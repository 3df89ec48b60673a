import type { RequestHandler } from 'express';
import { InputError, UnauthorizedError } from '../errors.ts';
import type { ApiTokenService } from '../services/api-tokens.ts';

/**
 * `Authorization: Basic <user>:<ep_… API token>` for the registry token endpoint only (Docker clients
 * send their registry credentials this way): the username must be the token owner's username (or subject),
 * the password an Edgeport API token. On success the request continues exactly like a Bearer-token request
 * (`res.locals.apiToken`, so the grants are cut down to the token's permissions). Any other scheme passes through.
 * Mount on the token path only, before `bearerAuth`.
 */
export function basicTokenAuth(tokens: Pick<ApiTokenService, 'authenticate'>): RequestHandler {
  return async (req, res, next) => {
    const m = /^basic\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m) return next();
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon >= 0 ? decoded.slice(0, colon) : '';
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    res.set('WWW-Authenticate', 'Basic realm="edgeport"');
    const { user, token } = await tokens.authenticate(password);
    if (username !== user.username && username !== user.sub) throw new UnauthorizedError('the username does not own this API token');
    if (req.user)
      throw new InputError('send either a session cookie or registry credentials, not both', [
        { field: 'Authorization', message: 'not with a signed-in session' },
      ]);
    req.user = user;
    res.locals.apiToken = token;
    // bearerAuth only acts on the Bearer scheme; nothing downstream reads this header again.
    next();
  };
}
