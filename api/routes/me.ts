import { PERMISSION_TREE } from '../../common/permissions.ts';
import { vdcPools } from '../../common/tenancy.ts';
import type { Store } from '../../store/index.ts';
import { vdcsWith } from '../authz.ts';
import type { RouteDef } from './define.ts';

export function meRoutes(store: Store): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/me',
      permission: 'signed-in',
      target: 'any',
      handler: async (_req, res, { caller }) => {
        const user = await store.users.get(caller.sub);
        const permissions = [...new Set(caller.grants.flatMap((g) => [...g.permissions]))].sort();
        res.json({ sub: caller.sub, name: caller.name, email: user?.email ?? '', username: user?.username ?? '', bindings: caller.bindings, permissions });
      },
    },
    {
      method: 'get',
      path: '/permission-tree',
      permission: 'signed-in',
      target: 'any',
      handler: async (_req, res) => void res.json({ tree: PERMISSION_TREE }),
    },
    {
      method: 'get',
      path: '/vdcs',
      permission: 'vdc:read',
      target: 'any',
      handler: async (_req, res, { caller }) => {
        const all = await store.vdcs.list('all');
        const ids = vdcsWith(
          caller.grants,
          'vdc:read',
          all.map((v) => ({ id: v._id, domainId: v.domainId })),
        );
        const visible = ids === 'all' ? all : all.filter((v) => ids.includes(v._id));
        res.json({
          items: visible.map((v) => ({
            id: v._id,
            name: v.name,
            domainId: v.domainId,
            namespace: v.namespace,
            quota: v.quota ?? {},
            pools: vdcPools(v).map((p) => p.pool),
          })),
        });
      },
    },
  ];
}
