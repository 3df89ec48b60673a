import type { RequestHandler, Response } from 'express';
import type { Store } from '../../store/index.ts';
import type { Caller } from '../services/tickets.ts';

/**
 * Resolves the signed-in user's role bindings for this request (fresh from the store, so a revoked
 * role takes effect at once) and keeps them on `res.locals.caller`.
 */
export function loadCaller(store: Store): RequestHandler {
  return async (req, res, next) => {
    const user = req.user as { sub: string; name: string } | undefined;
    if (!user) return next();
    res.locals.caller = { sub: user.sub, name: user.name, bindings: await store.users.bindings(user.sub) } satisfies Caller;
    next();
  };
}

export function caller(res: Response): Caller {
  const c = res.locals.caller as Caller | undefined;
  if (!c) throw new Error('route mounted without requireUser/loadCaller');
  return c;
}
