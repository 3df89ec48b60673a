import type { RouteRecordRaw } from 'vue-router';
import { ROUTE } from '../names.ts';

/** The image registry view (issue 7): every signed-in user sees what they may pull; lazy. */
export const imageRoutes: RouteRecordRaw[] = [
  {
    path: '/images',
    name: ROUTE.images,
    component: () => import('../../views/images/Images.vue'),
    meta: { title: 'images.title', permissions: ['vdc:read'] },
  },
];
