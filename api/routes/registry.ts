import { z } from 'zod';
import { parse } from '../errors.ts';
import type { RegistryService } from '../services/registry.ts';
import type { RouteDef } from './define.ts';

const ImagesQuery = z.object({ vdcId: z.string().min(1).max(63).optional() });
/** Docker registry token specification; `registry.token` checks service and scope itself, other parameters (account, client_id) are ignored. */
const TokenQuery = z.looseObject({ service: z.string().optional(), scope: z.union([z.string(), z.array(z.string())]).optional() });

/**
 * The registry's token service (Docker registry token specification; credentials via HTTP Basic with an
 * API token, see `auth/basic-token.ts`, or the session) and the read-only image list. Each authorizes per
 * repository itself, so both are `signed-in` routes.
 */
export function registryRoutes(registry: RegistryService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/registry/token',
      input: { query: TokenQuery, summary: 'Docker registry bearer token (Basic auth with an API token or a VDC pull credential, or the session)' },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const body = await registry.token(caller, { service: req.query.service, scope: req.query.scope });
        res.set('Cache-Control', 'no-store');
        res.json(body);
      },
    },
    {
      method: 'get',
      path: '/images',
      input: { query: ImagesQuery },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const q = parse(ImagesQuery, req.query);
        res.json({ items: await registry.list(caller, q.vdcId === undefined ? {} : { vdcId: q.vdcId }) });
      },
    },
  ];
}
