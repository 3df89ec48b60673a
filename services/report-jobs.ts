import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { domainIdSchema, LabelSelectorSchema, parseLabelSelector, vdcIdSchema } from '../common/tenancy.ts';
import type { ReportFileStore } from '../store/report-files.ts';
import { PDF_MAX_ROWS, pdfRowCount, renderReportPdf } from './billing-pdf.ts';
import type { ReportScope } from './billing-report.ts';
import type { ReportService } from './reports.ts';

/**
 * Background report jobs (BullMQ on the stack's Redis): the API enqueues, a BullMQ worker in the worker
 * process builds the report (streamed from the ledger cursor), stores the file in GridFS and reports
 * progress; the API answers status and serves the download. Jobs are at-least-once: a retried job builds
 * the same bytes again into a new file (its `asOf` is fixed at submit), the partial file of a failed
 * attempt is deleted. Finished jobs are trimmed after REPORT_JOB_KEEP_SECONDS; their files are deleted by the
 * scheduled sweep (report-file-sweep.ts) once older than EDGEPORT_REPORT_FILE_RETENTION_S (default the same).
 */
export const REPORT_QUEUE = 'edgeport-reports';
export const REPORT_JOB_KEEP_SECONDS = 7 * 24 * 3600;

const day = z.iso.date();

/** Body of `POST /api/reports/jobs` (agreed contract with the portal). */
export const ReportJobRequestSchema = z
  .strictObject({
    scope: z.enum(['vdc', 'domain', 'pool', 'label', 'platform']),
    id: z.string().optional(),
    label: LabelSelectorSchema.optional(),
    from: day,
    to: day,
    kind: z.enum(['showback', 'chargeback']),
    format: z.enum(['json', 'csv', 'pdf']),
  })
  .superRefine((b, ctx) => {
    if (b.scope === 'vdc' && !vdcIdSchema.safeParse(b.id).success) ctx.addIssue({ code: 'custom', path: ['id'], message: 'a VDC id' });
    if ((b.scope === 'domain' || b.scope === 'pool') && !domainIdSchema.safeParse(b.id).success)
      ctx.addIssue({ code: 'custom', path: ['id'], message: `a ${b.scope} id` });
    if ((b.scope === 'platform' || b.scope === 'label') && b.id !== undefined)
      ctx.addIssue({ code: 'custom', path: ['id'], message: `not used with scope ${b.scope}` });
    if (b.scope === 'label' && b.label === undefined) ctx.addIssue({ code: 'custom', path: ['label'], message: 'required with scope label (key=value)' });
    if (b.scope !== 'label' && b.label !== undefined) ctx.addIssue({ code: 'custom', path: ['label'], message: 'only with scope label' });
    const days = (Date.parse(b.to) - Date.parse(b.from)) / 86_400_000;
    if (!(days >= 1 && days <= 366)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from, at most 366 days' });
  });
export type ReportJobRequest = z.infer<typeof ReportJobRequestSchema>;

export interface ReportJobData {
  request: ReportJobRequest;
  requester: { sub: string; name: string };
  /** Fixed at submit so a retried job builds the same bytes. */
  asOf: string;
}
export interface ReportJobResult {
  fileId: string;
  fileName: string;
  contentType: string;
  bytes: number;
}
export type ReportJobState = 'queued' | 'running' | 'done' | 'failed';
export interface ReportJobView {
  id: string;
  state: ReportJobState;
  progress: number;
  error?: string;
  downloadUrl?: string;
  request: ReportJobRequest;
}

export const CONTENT_TYPES = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', pdf: 'application/pdf' } as const;

export function scopeOfRequest(r: ReportJobRequest): ReportScope {
  if (r.scope === 'platform') return { kind: 'platform' };
  if (r.scope === 'label') {
    return { kind: 'label', ...parseLabelSelector(r.label!) };
  }
  return { kind: r.scope, id: r.id! };
}

export function reportJobFileName(r: ReportJobRequest): string {
  const what = r.scope === 'platform' ? 'platform' : r.scope === 'label' ? `label-${r.label}` : `${r.scope}-${r.id}`;
  return `edgeport-${r.kind}-${what}-${r.from}-${r.to}.${r.format}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Builds one report job's file. Progress: share of the scope's ledger lines read (PDF: 50 % once built). */
export function reportJobProcessor(deps: { reports: ReportService; files: ReportFileStore }) {
  return async (job: Job<ReportJobData, ReportJobResult>): Promise<ReportJobResult> => {
    const request = ReportJobRequestSchema.parse(job.data.request);
    const scope = scopeOfRequest(request);
    const period = { from: new Date(`${request.from}T00:00:00.000Z`), to: new Date(`${request.to}T00:00:00.000Z`) };
    const asOf = new Date(job.data.asOf);
    const fileName = reportJobFileName(request);
    const contentType = CONTENT_TYPES[request.format];
    await job.updateProgress(0);
    const stored = await deps.files.write(fileName, { jobId: String(job.id), contentType }, async (write) => {
      if (request.format === 'pdf') {
        const report = await deps.reports.report(request.kind, scope, period, asOf);
        if (pdfRowCount(report) > PDF_MAX_ROWS) throw new UnrecoverableError(`more than ${PDF_MAX_ROWS} rows for a PDF, use csv`);
        await job.updateProgress(50);
        await write(await renderReportPdf(report));
        return;
      }
      const total = Math.max(1, await deps.reports.countLines(scope));
      let last = 0;
      await deps.reports.streamReport(request.kind, request.format, scope, period, asOf, write, async (read) => {
        const pct = Math.min(99, Math.floor((read * 100) / total));
        if (pct > last) {
          last = pct;
          await job.updateProgress(pct);
        }
      });
    });
    return { fileId: stored.fileId, fileName, contentType, bytes: stored.bytes };
  };
}

/**
 * The BullMQ worker for report jobs (concurrency 1: a report is CPU-bound). Runs in the worker process
 * (worker/main.ts), beside the Temporal worker: background work lives there, it scales with it, and the
 * API stays responsive. Close it on SIGTERM (`worker.close()` lets the running job finish).
 */
export function startReportWorker(deps: {
  connection: ConnectionOptions;
  queueName?: string;
  reports: ReportService;
  files: ReportFileStore;
}): Worker<ReportJobData, ReportJobResult> {
  return new Worker<ReportJobData, ReportJobResult>(deps.queueName ?? REPORT_QUEUE, reportJobProcessor(deps), { connection: deps.connection, concurrency: 1 });
}
