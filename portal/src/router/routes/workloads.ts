import type { RouteRecordRaw } from 'vue-router';
import { ROUTE } from '../names.ts';

/** Workloads after deploy: the list of a VDC's workloads and one workload's detail; lazy, behind workload:read. */
export const workloadRoutes: RouteRecordRaw[] = [
  {
    path: '/workloads',
    name: ROUTE.workloads,
    component: () => import('../../views/workloads/Workloads.vue'),
    meta: { title: 'workloads.title', permissions: ['workload:read'] },
  },
  {
    path: '/workloads/:vdcId/:namespace/:name',
    name: ROUTE.workloadDetail,
    component: () => import('../../views/workloads/WorkloadDetail.vue'),
    props: true,
    meta: { title: 'workloads.title', permissions: ['workload:read'], menu: '/workloads' },
  },
];
