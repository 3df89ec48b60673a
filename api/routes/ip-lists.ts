import { IpListsSchema } from '../../common/identity.ts';
import { parse } from '../errors.ts';
import type { IpListService } from '../services/ip-lists.ts';
import type { RouteDef } from './define.ts';

/** The platform IP allow/deny lists: operations admins only (they reveal and shape network access). */
export function ipListRoutes(lists: IpListService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/ip-lists',
      permission: 'iplist:write',
      target: 'platform',
      handler: async (req, res) => void res.json(await lists.get(req.ip)),
    },
    {
      method: 'put',
      path: '/ip-lists',
      input: { body: IpListsSchema },
      permission: 'iplist:write',
      target: 'platform',
      handler: async (req, res, { caller }) => void res.json(await lists.update(caller, parse(IpListsSchema, req.body), req.ip)),
    },
  ];
}
