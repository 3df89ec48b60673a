import type { Pinia } from 'pinia';
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { useSessionStore } from '../stores/session.ts';
import { ROUTE } from './names.ts';
import { adminRoutes } from './routes/admin.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { workspaceRoutes } from './routes/workspace.ts';
import { workloadRoutes } from './routes/workloads.ts';
import { imageRoutes } from './routes/images.ts';

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/dashboard' },
  ...workspaceRoutes,
  ...workloadRoutes,
  ...imageRoutes,
  ...ticketRoutes,
  ...approvalRoutes,
  ...adminRoutes,
  { path: '/403', name: ROUTE.forbidden, component: () => import('../views/errors/Forbidden.vue') },
  { path: '/:pathMatch(.*)*', name: ROUTE.notFound, component: () => import('../views/errors/NotFound.vue') },
];

/** Routes with `meta.roles` / `meta.permissions` wait for the session and send users holding none of them to 403. */
export function createAppRouter(pinia: Pinia) {
  const router = createRouter({ history: createWebHistory('/'), routes });
  router.beforeEach(async (to) => {
    const { roles, permissions } = to.meta;
    if (!roles && !permissions) return true;
    const session = useSessionStore(pinia);
    await session.ensureLoaded();
    if (session.user && roles && !session.hasAnyRole(roles)) return { name: ROUTE.forbidden };
    if (session.user && permissions && !session.can(...permissions)) return { name: ROUTE.forbidden };
    return true;
  });
  return router;
}
