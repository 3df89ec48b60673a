import type { Request } from 'express';
import { z } from 'zod';
import { BrowseHarborQuerySchema, ConnectHarborRegistrySchema, harborRegistryIdSchema } from '../../common/harbor-registries.ts';
import { parse } from '../errors.ts';
import type { HarborRegistryService } from '../services/harbor-registries.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam } from './params.ts';

/** A malformed id cannot exist: 404, like an unknown one. */
const registryId = (req: Request): string => pathParam(req, 'id', harborRegistryIdSchema);
const IdParams = z.strictObject({ id: harborRegistryIdSchema });
/** Reading or deleting one registry takes no options: any query or body but `{}` is refused before the lookup. */
const NoOptions = z.strictObject({});

/**
 * Third-party Harbor registries: platform operations of operations admins (`registry:manage` from a platform
 * binding). The connect body carries the secret; no answer ever does.
 */
export function harborRegistryRoutes(registries: HarborRegistryService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/harbor-registries',
      permission: 'registry:manage',
      target: 'platform',
      input: { summary: 'Connected third-party Harbor registries (never their secrets)' },
      handler: async (_req, res) => void res.json({ items: await registries.list() }),
    },
    {
      method: 'post',
      path: '/harbor-registries',
      permission: 'registry:manage',
      target: 'platform',
      input: {
        body: ConnectHarborRegistrySchema,
        summary: 'Connect a Harbor (URL, username, password or robot secret); the credentials are checked before it is saved',
      },
      handler: async (req, res, { caller }) => {
        const body = parse(ConnectHarborRegistrySchema, req.body);
        const r = await registries.connect(caller, body, metaOf(req));
        res.status(201).location(`/api/harbor-registries/${r.id}`).json(r);
      },
    },
    {
      method: 'get',
      path: '/harbor-registries/:id',
      permission: 'registry:manage',
      target: 'platform',
      input: { params: IdParams, query: NoOptions, summary: 'One connected registry' },
      handler: async (req, res) => {
        const id = registryId(req);
        parse(NoOptions, req.query);
        res.json(await registries.get(id));
      },
    },
    {
      method: 'get',
      path: '/harbor-registries/:id/browse',
      permission: 'registry:manage',
      target: 'platform',
      input: {
        params: IdParams,
        query: BrowseHarborQuerySchema,
        summary: 'Browse a registry: projects; ?project= its repositories; ?repository= its tags with pull commands',
      },
      handler: async (req, res) => {
        const id = registryId(req);
        res.json(await registries.browse(id, parse(BrowseHarborQuerySchema, req.query)));
      },
    },
    {
      method: 'delete',
      path: '/harbor-registries/:id',
      permission: 'registry:manage',
      target: 'platform',
      input: { params: IdParams, body: NoOptions, bodyOptional: true, summary: 'Forget a registry and its stored secret' },
      handler: async (req, res, { caller }) => {
        const id = registryId(req);
        parse(NoOptions, req.body ?? {});
        await registries.remove(caller, id, metaOf(req));
        res.status(204).end();
      },
    },
  ];
}
