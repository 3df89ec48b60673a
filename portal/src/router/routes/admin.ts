import type { RouteRecordRaw } from 'vue-router';
import { ROUTE } from '../names.ts';

/** Admin views, each lazy (own chunk) and behind the permission its API needs. API tokens: every user. */
export const adminRoutes: RouteRecordRaw[] = [
  {
    path: '/admin/domains',
    name: ROUTE.domains,
    component: () => import('../../views/admin/Domains.vue'),
    meta: { title: 'admin.menu.domains', permissions: ['domain:read'] },
  },
  {
    path: '/admin/vdcs/:id',
    name: ROUTE.vdcDetail,
    component: () => import('../../views/admin/VdcDetail.vue'),
    props: true,
    meta: { title: 'admin.vdc.title', menu: '/admin/domains', permissions: ['vdc:read'] },
  },
  {
    path: '/admin/roles',
    name: ROUTE.roles,
    component: () => import('../../views/admin/Roles.vue'),
    meta: { title: 'admin.menu.roles', permissions: ['role:write'] },
  },
  {
    path: '/admin/pools',
    name: ROUTE.pools,
    component: () => import('../../views/admin/Pools.vue'),
    meta: { title: 'admin.menu.pools', permissions: ['pool:read'] },
  },
  {
    path: '/admin/pools/:id',
    name: ROUTE.poolDetail,
    component: () => import('../../views/admin/PoolDetail.vue'),
    props: true,
    meta: { title: 'admin.pool.title', menu: '/admin/pools', permissions: ['pool:read'] },
  },
  {
    path: '/admin/audit',
    name: ROUTE.audit,
    component: () => import('../../views/admin/AuditLog.vue'),
    meta: { title: 'admin.menu.audit', permissions: ['audit:read'] },
  },
  {
    path: '/admin/ip-lists',
    name: ROUTE.ipLists,
    component: () => import('../../views/admin/IpLists.vue'),
    meta: { title: 'admin.menu.ipLists', permissions: ['iplist:write'] },
  },
  {
    path: '/admin/harbor-registries',
    name: ROUTE.harborRegistries,
    component: () => import('../../views/admin/HarborRegistries.vue'),
    meta: { title: 'registries.menu', permissions: ['registry:manage'] },
  },
  {
    path: '/account/tokens',
    name: ROUTE.apiTokens,
    component: () => import('../../views/admin/ApiTokens.vue'),
    meta: { title: 'admin.menu.tokens' },
  },
];
