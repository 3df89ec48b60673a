import type { Request } from 'express';
import { z } from 'zod';
import { nodeNameSchema, poolIdSchema, RegisterPoolSchema } from '../../common/pools.ts';
import { parse } from '../errors.ts';
import type { PoolService } from '../services/pools.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam } from './params.ts';

/** A malformed id or node name cannot exist: 404, like an unknown one. */
const poolId = (req: Request): string => pathParam(req, 'id', poolIdSchema);
const nodeName = (req: Request): string => pathParam(req, 'name', nodeNameSchema);
const PoolParams = z.strictObject({ id: poolIdSchema });
const NodeParams = z.strictObject({ id: poolIdSchema, name: nodeNameSchema });
/** Cordon / uncordon take no options: any body but `{}` is refused before the node is touched. */
const NoBody = z.strictObject({});

/**
 * Resource pools (Kubernetes clusters) and their nodes: platform operations, so every route needs its
 * permission from a platform binding (`pool:read`, `pool:write`, `node:maintain`).
 */
export function poolRoutes(pools: PoolService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/pools',
      permission: 'pool:read',
      target: 'platform',
      handler: async (_req, res) => void res.json({ items: await pools.list() }),
    },
    {
      method: 'post',
      path: '/pools',
      input: { body: RegisterPoolSchema },
      permission: 'pool:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const body = parse(RegisterPoolSchema, req.body);
        const pool = await pools.register(caller, body, metaOf(req));
        res.status(201).location(`/api/pools/${pool.id}`).json(pool);
      },
    },
    {
      method: 'get',
      path: '/pools/:id',
      input: { params: PoolParams },
      permission: 'pool:read',
      target: 'platform',
      handler: async (req, res) => void res.json(await pools.overview(poolId(req))),
    },
    {
      method: 'get',
      path: '/pools/:id/nodes',
      input: { params: PoolParams },
      permission: 'pool:read',
      target: 'platform',
      handler: async (req, res) => void res.json({ items: await pools.nodes(poolId(req)) }),
    },
    {
      method: 'post',
      path: '/pools/:id/nodes/:name/cordon',
      input: { params: NodeParams, body: NoBody, bodyOptional: true },
      permission: 'node:maintain',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        parse(NoBody, req.body ?? {});
        res.json(await pools.cordon(caller, poolId(req), nodeName(req), metaOf(req)));
      },
    },
    {
      method: 'post',
      path: '/pools/:id/nodes/:name/uncordon',
      input: { params: NodeParams, body: NoBody, bodyOptional: true },
      permission: 'node:maintain',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        parse(NoBody, req.body ?? {});
        res.json(await pools.uncordon(caller, poolId(req), nodeName(req), metaOf(req)));
      },
    },
    {
      method: 'delete',
      path: '/pools/:id',
      input: { params: PoolParams },
      permission: 'pool:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        await pools.remove(caller, poolId(req), metaOf(req));
        res.status(204).end();
      },
    },
  ];
}
