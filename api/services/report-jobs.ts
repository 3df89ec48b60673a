import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Job, Queue } from 'bullmq';
import type { ReportFileStore } from '../../store/report-files.ts';
import { allows, type Grant } from '../authz.ts';
import { NotFoundError } from '../errors.ts';
import {
  REPORT_JOB_KEEP_SECONDS,
  type ReportJobData,
  type ReportJobRequest,
  type ReportJobResult,
  type ReportJobState,
  type ReportJobView,
} from '../../services/report-jobs.ts';

// The API side of report jobs; the job contract and the worker side are in services/report-jobs.ts.
const STATE: Record<string, ReportJobState> = { active: 'running', completed: 'done', failed: 'failed' };

/** The API side: enqueue, read status (requester or platform report readers only), open the file. */
export function reportJobService(deps: { queue: Queue<ReportJobData, ReportJobResult>; files: ReportFileStore }) {
  const { queue, files } = deps;
  async function visibleJob(id: string, caller: { sub: string; grants: readonly Grant[] }): Promise<Job<ReportJobData, ReportJobResult>> {
    const job = /^[0-9a-f-]{36}$/.test(id) ? await queue.getJob(id) : undefined;
    // One answer for "missing" and "not yours".
    if (!job || (job.data.requester.sub !== caller.sub && !allows(caller.grants, 'report:read', { kind: 'platform' })))
      throw new NotFoundError('report job not found');
    return job;
  }
  return {
    async submit(request: ReportJobRequest, requester: { sub: string; name: string }, now: Date): Promise<{ id: string; state: 'queued' }> {
      const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
      const to = new Date(`${request.to}T00:00:00.000Z`);
      const id = randomUUID();
      await queue.add(
        'report',
        { request, requester, asOf: (hour < to ? hour : to).toISOString() },
        {
          jobId: id,
          attempts: 3,
          backoff: { type: 'exponential', delay: 2000 },
          removeOnComplete: { age: REPORT_JOB_KEEP_SECONDS },
          removeOnFail: { age: REPORT_JOB_KEEP_SECONDS },
        },
      );
      return { id, state: 'queued' };
    },

    async view(id: string, caller: { sub: string; grants: readonly Grant[] }): Promise<ReportJobView> {
      const job = await visibleJob(id, caller);
      const state = STATE[await job.getState()] ?? 'queued';
      const progress = state === 'done' ? 100 : typeof job.progress === 'number' ? job.progress : 0;
      return {
        id,
        state,
        progress,
        ...(state === 'failed' ? { error: job.failedReason || 'failed' } : {}),
        ...(state === 'done' ? { downloadUrl: `/api/reports/jobs/${id}/download` } : {}),
        request: job.data.request,
      };
    },

    async download(id: string, caller: { sub: string; grants: readonly Grant[] }): Promise<{ stream: Readable; result: ReportJobResult }> {
      const job = await visibleJob(id, caller);
      const result = (await job.getState()) === 'completed' ? job.returnvalue : null;
      if (!result) throw new NotFoundError('report not ready');
      const stream = await files.open(result.fileId);
      if (!stream) throw new NotFoundError('report file no longer exists');
      return { stream, result };
    },
  };
}
export type ReportJobService = ReturnType<typeof reportJobService>;
