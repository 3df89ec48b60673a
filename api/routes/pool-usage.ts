import type { Request } from 'express';
import { z } from 'zod';
import { poolIdSchema } from '../../common/pools.ts';
import { vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import type { PoolUsageService } from '../services/pool-usage.ts';
import type { RouteDef } from './define.ts';
import { pathParam } from './params.ts';

const VdcParams = z.strictObject({ id: vdcIdSchema });
const PoolParams = z.strictObject({ id: poolIdSchema });

/**
 * Quota and usage per pool: a VDC's pools (anyone who may read the VDC; only that VDC's namespaces are
 * read) and a pool's VDCs (platform readers of pools only).
 */
export function poolUsageRoutes(usage: PoolUsageService): RouteDef[] {
  const vdcId = (req: Request): string => pathParam(req, 'id', vdcIdSchema);
  const ofVdc = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await usage.vdcScope(vdcId(req))) });
  return [
    {
      method: 'get',
      path: '/vdcs/:id/pools',
      input: { params: VdcParams, summary: "The VDC's pools with its quota and usage on each" },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await usage.vdcPools(vdcId(req)) }),
    },
    {
      method: 'get',
      path: '/pools/:id/vdcs',
      input: { params: PoolParams, summary: 'The VDCs on a pool with their quota and usage there' },
      permission: 'pool:read',
      target: 'platform',
      handler: async (req, res) => void res.json({ items: await usage.poolVdcs(pathParam(req, 'id', poolIdSchema)) }),
    },
  ];
}
