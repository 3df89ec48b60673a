import type { Request } from 'express';
import { z } from 'zod';
import { CONFIG_KIND_PATH, ConfigMapBodySchema, configNameSchema, ConfigQuerySchema, SecretBodySchema, type ConfigKind } from '../../common/config-items.ts';
import { vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { ConfigItemService } from '../services/config-items.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam } from './params.ts';

const VdcParams = z.strictObject({ id: vdcIdSchema });
const ItemParams = z.strictObject({ id: vdcIdSchema, name: configNameSchema });
const vdcId = (req: Request): string => pathParam(req, 'id', vdcIdSchema);
const itemName = (req: Request): string => pathParam(req, 'name', configNameSchema);

/**
 * The config center: `/vdcs/:id/configmaps` and `/vdcs/:id/secrets` (list, create, get, replace, delete),
 * scoped to the VDC (`config:read` / `config:write`); `?space=` picks an application space's namespace.
 * A Secret's values go in (create / replace) and never come out.
 */
export function configItemRoutes(items: ConfigItemService): RouteDef[] {
  const target = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await items.vdcScope(vdcId(req))) });
  const scopeOf = (req: Request) => {
    const q = parse(ConfigQuerySchema, req.query);
    return { vdcId: vdcId(req), ...(q.space ? { space: q.space } : {}) };
  };
  const routesOf = (kind: ConfigKind, body: typeof ConfigMapBodySchema | typeof SecretBodySchema): RouteDef[] => {
    const base = `/vdcs/:id/${CONFIG_KIND_PATH[kind]}`;
    return [
      {
        method: 'get',
        path: base,
        input: { params: VdcParams, query: ConfigQuerySchema },
        permission: 'config:read',
        target,
        handler: async (req, res) => void res.json({ items: await items.list(scopeOf(req), kind) }),
      },
      {
        method: 'post',
        path: base,
        input: { params: VdcParams, body },
        permission: 'config:write',
        target,
        handler: async (req, res, { caller }) => {
          const parsed = parse(body, req.body);
          const item = await items.create(caller, vdcId(req), kind, parsed, metaOf(req));
          res
            .status(201)
            .location(`/api/vdcs/${item.vdcId}/${CONFIG_KIND_PATH[kind]}/${item.name}${item.space ? `?space=${item.space}` : ''}`)
            .json(item);
        },
      },
      {
        method: 'get',
        path: `${base}/:name`,
        input: { params: ItemParams, query: ConfigQuerySchema },
        permission: 'config:read',
        target,
        handler: async (req, res) => void res.json(await items.get(scopeOf(req), kind, itemName(req))),
      },
      {
        method: 'put',
        path: `${base}/:name`,
        input: { params: ItemParams, query: ConfigQuerySchema, body },
        permission: 'config:write',
        target,
        handler: async (req, res, { caller }) => {
          const scope = scopeOf(req);
          const parsed = parse(body, req.body);
          res.json(await items.replace(caller, scope, kind, itemName(req), parsed, metaOf(req)));
        },
      },
      {
        method: 'delete',
        path: `${base}/:name`,
        input: { params: ItemParams, query: ConfigQuerySchema },
        permission: 'config:write',
        target,
        handler: async (req, res, { caller }) => {
          await items.remove(caller, scopeOf(req), kind, itemName(req), metaOf(req));
          res.status(204).end();
        },
      },
    ];
  };
  return [...routesOf('ConfigMap', ConfigMapBodySchema), ...routesOf('Secret', SecretBodySchema)];
}
