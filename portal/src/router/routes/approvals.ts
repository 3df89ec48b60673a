import type { RouteRecordRaw } from 'vue-router';
import { APPROVER_ROLES } from '../../stores/session.ts';
import { ROUTE } from '../names.ts';

export const approvalRoutes: RouteRecordRaw[] = [
  {
    path: '/approvals',
    name: ROUTE.inbox,
    component: () => import('../../views/approvals/Inbox.vue'),
    meta: { title: 'app.menu.inbox', roles: APPROVER_ROLES },
  },
];
