import type { Request } from 'express';
import { z } from 'zod';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { BillingService } from '../services/billing.ts';
import { ReportJobRequestSchema } from '../../services/report-jobs.ts';
import type { ReportJobService } from '../services/report-jobs.ts';
import type { RouteDef } from './define.ts';
import { pathParam } from './params.ts';

const jobId = z.string().min(1).max(64);
const JobParams = z.strictObject({ id: jobId });

/**
 * Background report jobs (contract agreed with the portal): submit needs the permission of the synchronous
 * report of the same scope; status and download are for the requester or platform report readers (others 404).
 */
export function reportJobRoutes(jobs: ReportJobService, billing: BillingService): RouteDef[] {
  const target = async (req: Request): Promise<Target> => {
    const r = parse(ReportJobRequestSchema, req.body ?? {});
    if (r.scope === 'vdc') return { kind: 'vdc', ...(await billing.vdcScope(r.id!)) };
    if (r.scope === 'domain') return { kind: 'domain', ...(await billing.domainScope(r.id!)) };
    return { kind: 'platform' };
  };
  return [
    {
      method: 'post',
      path: '/reports/jobs',
      permission: 'report:read',
      target,
      input: { body: ReportJobRequestSchema, summary: 'Start a background report job' },
      handler: async (req, res, { caller }) => {
        const request = parse(ReportJobRequestSchema, req.body ?? {});
        res.status(202).json(await jobs.submit(request, { sub: caller.sub, name: caller.name }, new Date()));
      },
    },
    {
      method: 'get',
      path: '/reports/jobs/:id',
      input: { params: JobParams },
      permission: 'report:read',
      target: 'any',
      handler: async (req, res, { caller }) => void res.json(await jobs.view(pathParam(req, 'id', jobId), caller)),
    },
    {
      method: 'get',
      path: '/reports/jobs/:id/download',
      input: { params: JobParams },
      permission: 'report:read',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const { stream, result } = await jobs.download(pathParam(req, 'id', jobId), caller);
        res.status(200).set({
          'Content-Type': result.contentType,
          'Content-Disposition': `attachment; filename="${result.fileName}"`,
          'Content-Length': String(result.bytes),
          'Cache-Control': 'no-store',
        });
        stream.on('error', (err) => res.destroy(err));
        stream.pipe(res);
      },
    },
  ];
}
