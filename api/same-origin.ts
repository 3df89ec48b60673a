import type { RequestHandler } from 'express';
import { ForbiddenError } from './errors.ts';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF guard beside SameSite=Lax cookies: a state-changing request that a browser marks as coming from
 * another origin (`Origin` header or `Sec-Fetch-Site: cross-site|same-site`) is refused. Scripts and CLIs
 * send neither header and are unaffected; they authenticate with API tokens anyway.
 */
export function sameOriginOnly(publicUrl: string): RequestHandler {
  const origin = new URL(publicUrl).origin;
  return (req, _res, next) => {
    if (!UNSAFE.has(req.method)) return next();
    const o = req.get('origin');
    const site = req.get('sec-fetch-site');
    if ((o && o !== origin) || site === 'cross-site' || site === 'same-site') return next(new ForbiddenError('cross-origin request refused'));
    next();
  };
}
