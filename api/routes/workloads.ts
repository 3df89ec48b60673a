import type { Request } from 'express';
import { z } from 'zod';
import { vdcIdSchema } from '../../common/tenancy.ts';
import { WorkloadOperationBodySchema } from '../../common/workload-ops.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import { MAX_TAIL_LINES, type WorkloadService } from '../services/workloads.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam as param } from './params.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const label = (max: number) => z.string().min(1).max(max).regex(DNS_LABEL);
const VdcParams = z.strictObject({ id: vdcIdSchema });
const WorkloadParams = z.strictObject({ id: vdcIdSchema, namespace: label(63), name: label(50) });
const ListQuery = z.strictObject({ space: label(40).optional() });
const DetailQuery = z.strictObject({ eventLimit: z.coerce.number().int().min(1).max(500).default(100) });
const LogQuery = z.strictObject({
  pod: z.string().min(1).max(253).optional(),
  container: label(63).optional(),
  tailLines: z.coerce.number().int().min(1).max(MAX_TAIL_LINES).default(100),
  follow: z.enum(['true', 'false']).optional(),
});

/** Workloads after deploy: list, detail, logs (tail / follow) and day-2 operations of a VDC's workloads. */
export function workloadRoutes(workloads: WorkloadService): RouteDef[] {
  const vdcId = (req: Request): string => param(req, 'id', vdcIdSchema);
  const ns = (req: Request): string => param(req, 'namespace', label(63));
  const name = (req: Request): string => param(req, 'name', label(50));
  const ofVdc = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await workloads.scope(vdcId(req))) });
  return [
    {
      method: 'get',
      path: '/vdcs/:id/workloads',
      input: { params: VdcParams, query: ListQuery, summary: 'Workloads of the VDC (optionally of one space) with live status and access addresses' },
      permission: 'workload:read',
      target: ofVdc,
      handler: async (req, res) => {
        const q = parse(ListQuery, req.query);
        res.json({ items: await workloads.list(vdcId(req), q.space) });
      },
    },
    {
      method: 'get',
      path: '/vdcs/:id/edge-nodes',
      input: {
        params: VdcParams,
        summary: "The VDC's pools with the edge nodes joined for it (architecture, labels, taints): node selection and tolerations of a deploy",
      },
      permission: 'workload:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await workloads.edgeNodes(vdcId(req)) }),
    },
    {
      method: 'get',
      path: '/vdcs/:id/workloads/:namespace/:name',
      input: {
        params: WorkloadParams,
        query: DetailQuery,
        summary: 'One workload: pods, events, revisions with their changes, env, access, scheduling and security',
      },
      permission: 'workload:read',
      target: ofVdc,
      handler: async (req, res) => {
        const q = parse(DetailQuery, req.query);
        res.json(await workloads.get(vdcId(req), ns(req), name(req), q.eventLimit));
      },
    },
    {
      method: 'get',
      path: '/vdcs/:id/workloads/:namespace/:name/logs',
      input: { params: WorkloadParams, query: LogQuery, summary: 'Container log: the last tailLines lines, or (follow=true) server-sent events' },
      permission: 'workload:read',
      target: ofVdc,
      handler: async (req, res) => {
        const q = parse(LogQuery, req.query);
        const opts = { tailLines: q.tailLines, ...(q.pod ? { pod: q.pod } : {}), ...(q.container ? { container: q.container } : {}) };
        if (q.follow === 'true') await workloads.follow(vdcId(req), ns(req), name(req), opts, res);
        else res.json(await workloads.tail(vdcId(req), ns(req), name(req), opts));
      },
    },
    {
      method: 'post',
      path: '/vdcs/:id/workloads/:namespace/:name/operations',
      input: {
        params: WorkloadParams,
        body: WorkloadOperationBodySchema,
        summary: 'Scale, stop, start, restart, delete or change access: applied directly or submitted as a ticket, as policy decides',
      },
      permission: 'workload:operate',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        const body = parse(WorkloadOperationBodySchema, req.body);
        const out = await workloads.operate(caller, vdcId(req), ns(req), name(req), body, metaOf(req));
        res.status(out.mode === 'ticket' ? 202 : 200).json(out);
      },
    },
  ];
}
