import type { RouteRecordRaw } from 'vue-router';
import { ROUTE } from '../names.ts';

/** Tenant dashboard, approver delegations and finance; each lazy and behind the permission its API needs. */
export const workspaceRoutes: RouteRecordRaw[] = [
  {
    path: '/dashboard',
    name: ROUTE.dashboard,
    component: () => import('../../views/dashboard/VdcDashboard.vue'),
    meta: { title: 'dashboard.title' },
  },
  {
    path: '/approvals/delegations',
    name: ROUTE.delegations,
    component: () => import('../../views/approvals/Delegations.vue'),
    meta: { title: 'delegations.title', permissions: ['ticket:decide'] },
  },
  {
    path: '/finance',
    name: ROUTE.finance,
    component: () => import('../../views/finance/Finance.vue'),
    meta: { title: 'finance.title', permissions: ['report:read'] },
  },
  {
    path: '/network/security-groups',
    name: ROUTE.securityGroups,
    component: () => import('../../views/network/SecurityGroups.vue'),
    meta: { title: 'network.title', permissions: ['vdc:read'] },
  },
  {
    path: '/volumes',
    name: ROUTE.volumes,
    component: () => import('../../views/volumes/Volumes.vue'),
    meta: { title: 'volumes.title', permissions: ['vdc:read'] },
  },
  {
    path: '/config-center',
    name: ROUTE.configCenter,
    component: () => import('../../views/config/ConfigCenter.vue'),
    meta: { title: 'configCenter.title', permissions: ['config:read'] },
  },
];
