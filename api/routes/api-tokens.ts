import type { Request } from 'express';
import { z } from 'zod';
import { CreateApiTokenSchema } from '../../common/identity.ts';
import { parse } from '../errors.ts';
import type { ApiTokenService } from '../services/api-tokens.ts';
import type { RouteDef } from './define.ts';

const IdParam = z.strictObject({ id: z.uuid() });
/** A malformed id cannot exist: 404 like an unknown one. */
const tokenId = (req: Request): string => {
  const r = IdParam.safeParse(req.params);
  return r.success ? r.data.id : '00000000-0000-4000-8000-000000000000';
};

/** The caller's own API tokens; every signed-in user may hold tokens within their own permissions. */
export function apiTokenRoutes(tokens: ApiTokenService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/tokens',
      permission: 'signed-in',
      target: 'any',
      handler: async (_req, res, { caller }) => void res.json({ items: await tokens.list(caller) }),
    },
    {
      method: 'post',
      path: '/tokens',
      input: { body: CreateApiTokenSchema },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const created = await tokens.create(caller, parse(CreateApiTokenSchema, req.body), req.ip);
        res.status(201).set('Cache-Control', 'no-store').location(`/api/tokens/${created.id}`).json(created);
      },
    },
    {
      method: 'delete',
      path: '/tokens/:id',
      input: { params: IdParam },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => {
        await tokens.revoke(caller, tokenId(req), req.ip);
        res.status(204).end();
      },
    },
  ];
}
