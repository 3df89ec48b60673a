import type { RouteRecordRaw } from 'vue-router';
import { ROUTE } from '../names.ts';

export const ticketRoutes: RouteRecordRaw[] = [
  {
    path: '/tickets',
    name: ROUTE.myTickets,
    component: () => import('../../views/tickets/MyTickets.vue'),
    meta: { title: 'app.menu.myTickets' },
  },
  {
    path: '/tickets/new',
    name: ROUTE.newQuotaChange,
    component: () => import('../../views/tickets/NewRequest.vue'),
    meta: { title: 'app.menu.newRequest', menu: '/tickets/new' },
  },
  {
    path: '/tickets/new/:type',
    name: ROUTE.newRequest,
    component: () => import('../../views/tickets/NewRequest.vue'),
    meta: { title: 'app.menu.newRequest', menu: '/tickets/new' },
  },
  {
    path: '/tickets/:id',
    name: ROUTE.ticketDetail,
    component: () => import('../../views/tickets/TicketDetail.vue'),
    props: true,
    meta: { menu: '/tickets' },
  },
];
