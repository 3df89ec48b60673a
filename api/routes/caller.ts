import type { RequestHandler } from 'express';
import type { Store } from '../../store/index.ts';
import { apiTokenOf } from '../auth/bearer.ts';
import { resolveGrants, restrictGrants, type CustomRoleDef } from '../authz.ts';
import type { Caller } from '../services/caller.ts';

/**
 * Resolves the signed-in user's role bindings and custom roles for this request (fresh from the store,
 * so a revoked role takes effect at once) and keeps the caller on `res.locals.caller`. A request authenticated
 * by an API token gets only the token's permissions out of those grants.
 */
export function loadCaller(store: Store): RequestHandler {
  return async (req, res, next) => {
    const user = req.user as { sub: string; name: string } | undefined;
    if (!user) return next();
    const [bindings, custom] = await Promise.all([store.users.bindings(user.sub), store.roles.listCustom()]);
    const defs = new Map<string, CustomRoleDef>(custom.map((r) => [r._id, { id: r._id, baseRole: r.baseRole, permissions: r.permissions }]));
    const grants = resolveGrants(bindings, defs);
    const token = apiTokenOf(res);
    res.locals.caller = {
      sub: user.sub,
      name: user.name,
      bindings,
      ...(token ? { grants: restrictGrants(grants, token.permissions, token.scopes), tokenId: token.id } : { grants }),
    } satisfies Caller;
    next();
  };
}
