import { Router } from 'express';
import type { Store } from '../../store/index.ts';
import { PERMISSIONS, vdcsWith } from '../authz.ts';
import { caller } from './caller.ts';

export function meRoutes(store: Store): Router {
  const r = Router();
  r.get('/me', async (req, res) => {
    const c = caller(res);
    const user = await store.users.get(c.sub);
    res.json({ sub: c.sub, name: c.name, email: user?.email ?? '', username: user?.username ?? '', bindings: c.bindings });
  });
  r.get('/vdcs', async (_req, res) => {
    const c = caller(res);
    const all = await store.vdcs.list('all');
    const ids = vdcsWith(c.bindings, PERMISSIONS.vdcRead, all.map((v) => ({ id: v._id, domainId: v.domainId })));
    const visible = ids === 'all' ? all : all.filter((v) => ids.includes(v._id));
    res.json({ items: visible.map((v) => ({ id: v._id, name: v.name, domainId: v.domainId, namespace: v.namespace, quota: v.quota ?? {} })) });
  });
  return r;
}
