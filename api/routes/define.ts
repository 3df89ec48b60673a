import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { Permission } from '../../common/permissions.ts';
import { allows, holdsAnywhere, type Target } from '../authz.ts';
import { ForbiddenError, NotFoundError } from '../errors.ts';
import type { Caller } from '../services/caller.ts';

export interface RouteContext {
  caller: Caller;
  /** The object's scope as resolved for the permission check (null for 'any' and 'signed-in'). */
  target: Target | null;
}

/**
 * One API route with the permission it needs and where that permission must hold. Every `/api` route is
 * declared this way (the route × role test enumerates these definitions and fails on any route that
 * was mounted without one).
 * - `permission: 'signed-in'`: any signed-in user acting on their own data (e.g. `/me`).
 * - `target: 'platform'`: the permission must come from a platform binding.
 * - `target: 'any'`: the permission must be held somewhere; the handler filters what it returns.
 * - `target: resolver`: the object's scope (e.g. a ticket's VDC); a missing object is 404, and so is an
 *   object the caller may not even read, so existence never leaks across tenants.
 */
export interface RouteDef {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  permission: Permission | 'signed-in';
  target: 'platform' | 'any' | ((req: Request, res: Response) => Promise<Target>);
  /** The zod schemas the handler parses its input with; `GET /api/openapi.json` and the fuzzer are built from them. */
  input?: RouteInput;
  handler: (req: Request, res: Response, ctx: RouteContext) => Promise<void>;
}

/**
 * What a route accepts, as the same zod schemas its handler parses with: path parameters and query as
 * objects (one property per parameter), the JSON body. A route without `body` takes none (a body it is
 * sent is refused or ignored by its handler, never acted on).
 */
export interface RouteInput {
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out (the handler then parses `{}`). */
  bodyOptional?: boolean;
  summary?: string;
}

/** The permission that makes an object of this scope visible; without it, a denial is a 404. */
const READ_OF: Record<Target['kind'], Permission | null> = { platform: null, domain: 'domain:read', vdc: 'vdc:read' };

export function callerOf(res: Response): Caller {
  const c = res.locals.caller as Caller | undefined;
  if (!c) throw new Error('route mounted without requireUser/loadCaller');
  return c;
}

async function authorize(def: RouteDef, req: Request, res: Response): Promise<RouteContext> {
  const caller = callerOf(res);
  if (def.permission === 'signed-in') return { caller, target: null };
  if (def.target === 'any') {
    if (!holdsAnywhere(caller.grants, def.permission)) throw new ForbiddenError(`needs permission ${def.permission}`);
    return { caller, target: null };
  }
  let target: Target;
  try {
    target = def.target === 'platform' ? { kind: 'platform' } : await def.target(req, res);
  } catch (err) {
    // One answer for "missing" and "not yours": a resolver's own message could tell the two apart.
    if (err instanceof NotFoundError) throw new NotFoundError();
    throw err;
  }
  if (allows(caller.grants, def.permission, target)) return { caller, target };
  const read = READ_OF[target.kind];
  if (read && !allows(caller.grants, read, target)) throw new NotFoundError();
  throw new ForbiddenError(`needs permission ${def.permission}`);
}

/** Mounts route definitions on a router, each behind its permission check. */
export function mountRoutes(router: Router, defs: readonly RouteDef[]): void {
  for (const def of defs) {
    router[def.method](def.path, async (req, res) => {
      const ctx = await authorize(def, req, res);
      await def.handler(req, res, ctx);
    });
  }
}
