import type { Request } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../errors.ts';
import type { RequestMeta } from '../services/access.ts';

/** A user's subject identifier as it appears in a path. */
export const SubParam = z.string().min(1).max(255);

/** A path parameter; a malformed id cannot exist, so it is a 404 like an unknown one. */
export function pathParam(req: Request, name: string, schema: z.ZodType<string>): string {
  const r = schema.safeParse(req.params[name]);
  if (!r.success) throw new NotFoundError();
  return r.data;
}

/** Where the request came from, for audit entries. */
export const metaOf = (req: Request): RequestMeta => (req.ip ? { ip: req.ip } : {});
