import { once } from 'node:events';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { PriceBookInputSchema, VoidLineBody } from '../../common/billing.ts';
import { domainIdSchema, LabelSelectorSchema, parseLabelSelector, vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { InputError, parse } from '../errors.ts';
import { PDF_MAX_ROWS, pdfRowCount, renderReportPdf } from '../../services/billing-pdf.ts';
import type { ReportScope } from '../../services/billing-report.ts';
import type { BillingService } from '../services/billing.ts';
import type { RouteDef } from './define.ts';
import { pathParam as param } from './params.ts';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;
const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((s) => new Date(s.length === 10 ? `${s}T00:00:00.000Z` : s));

/** `?month=YYYY-MM` | `?day=YYYY-MM-DD` | `?from=…&to=…` (half-open), plus kind, format and asOf. */
const ReportQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
    .optional(),
  day: z.iso.date().optional(),
  from: dateOrTime.optional(),
  to: dateOrTime.optional(),
  kind: z.enum(['showback', 'chargeback']).default('chargeback'),
  format: z.enum(['json', 'csv', 'pdf']).default('json'),
  asOf: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
});

/** Body of `POST /api/pricebook/what-if` (contract with the portal): a period of whole days and a draft book. */
export const WhatIfBody = z
  .strictObject({ from: z.iso.date(), to: z.iso.date(), draft: PriceBookInputSchema })
  .refine((b) => Date.parse(b.to) > Date.parse(b.from) && Date.parse(b.to) - Date.parse(b.from) <= MAX_DAYS * DAY_MS, {
    path: ['to'],
    message: `must be after from, at most ${MAX_DAYS} days`,
  });

const LabelReportQuery = ReportQuery.extend({ label: LabelSelectorSchema });

const VerifyBody = z.strictObject({ vdcIds: z.array(vdcIdSchema).min(1).max(1000).optional() });
const VdcParams = z.strictObject({ id: vdcIdSchema });
const VerificationsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(20) });
const DomainParams = z.strictObject({ id: domainIdSchema });

function periodOf(q: z.infer<typeof ReportQuery>): { from: Date; to: Date } {
  const given = [q.month, q.day, q.from ?? q.to].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new InputError('invalid request: period: give exactly one of month, day, or from and to', [
      { field: 'month', message: 'give exactly one of month, day, or from and to' },
    ]);
  if (q.month) {
    const from = new Date(`${q.month}-01T00:00:00.000Z`);
    return { from, to: new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)) };
  }
  if (q.day) {
    const from = new Date(`${q.day}T00:00:00.000Z`);
    return { from, to: new Date(from.getTime() + DAY_MS) };
  }
  if (!q.from || !q.to)
    throw new InputError('invalid request: to: from and to go together', [{ field: q.from ? 'to' : 'from', message: 'from and to go together' }]);
  if (q.to <= q.from || q.to.getTime() - q.from.getTime() > MAX_DAYS * DAY_MS)
    throw new InputError(`invalid request: to: must be after from, at most ${MAX_DAYS} days`, [
      { field: 'to', message: `must be after from, at most ${MAX_DAYS} days` },
    ]);
  return { from: q.from, to: q.to };
}

/** File name of a report download: kind, scope and period start. */
export function reportFileName(kind: string, scope: ReportScope, from: Date, ext: string): string {
  const what = scope.kind === 'label' ? `label-${scope.key}-${scope.value}` : 'id' in scope ? `${scope.kind}-${scope.id}` : scope.kind;
  return `edgeport-${kind}-${what}-${from.toISOString().slice(0, 10)}.${ext}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export const REPORT_CONTENT_TYPES = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', pdf: 'application/pdf' } as const;

/**
 * Showback / chargeback of one scope; the period's end, or now (to the hour) while it is open, bounds it.
 * JSON and CSV stream from a ledger cursor (one VDC in memory); nothing is sent until the first 64 KiB or
 * the end, so an early failure still gets a problem body. PDF is built whole (at most PDF_MAX_ROWS rows).
 */
function reportHandler(billing: BillingService, scopeOf: (req: Request) => ReportScope, query: typeof ReportQuery = ReportQuery) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = parse(query, req.query);
    const period = periodOf(q);
    const nowHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const asOf = q.asOf ?? (nowHour < period.to ? nowHour : period.to);
    const scope = scopeOf(req);
    const headers = (format: keyof typeof REPORT_CONTENT_TYPES) => ({
      'Content-Type': REPORT_CONTENT_TYPES[format],
      ...(format === 'json' ? {} : { 'Content-Disposition': `attachment; filename="${reportFileName(q.kind, scope, period.from, format)}"` }),
      'Cache-Control': 'no-store',
    });
    if (q.format === 'pdf') {
      const report = await billing.report(q.kind, scope, period, asOf);
      if (pdfRowCount(report) > PDF_MAX_ROWS)
        throw new InputError(`invalid request: format: more than ${PDF_MAX_ROWS} rows, use csv`, [
          { field: 'format', message: `more than ${PDF_MAX_ROWS} rows, use csv` },
        ]);
      return void res
        .status(200)
        .set(headers('pdf'))
        .send(await renderReportPdf(report));
    }
    let started = false;
    await billing.streamReport(q.kind, q.format, scope, period, asOf, async (chunk) => {
      if (!started) res.status(200).set(headers(q.format));
      started = true;
      if (!res.write(chunk)) await once(res, 'drain');
    });
    res.end();
  };
}

/** Price book, ledger verify and billing reports. Tenants see their VDCs' reports only (report:read on the VDC). */
export function billingRoutes(billing: BillingService): RouteDef[] {
  const vdcId = (req: Request): string => param(req, 'id', vdcIdSchema);
  const domainId = (req: Request): string => param(req, 'id', domainIdSchema);
  const poolId = (req: Request): string => param(req, 'id', domainIdSchema);
  return [
    {
      method: 'get',
      path: '/pricebook',
      permission: 'report:read',
      target: 'any',
      handler: async (_req, res) => void res.json({ items: await billing.listPriceBook() }),
    },
    {
      method: 'post',
      path: '/pricebook',
      input: { body: PriceBookInputSchema },
      permission: 'pricebook:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const v = await billing.publishPriceBook({ sub: caller.sub, name: caller.name }, parse(PriceBookInputSchema, req.body), req.ip);
        res.status(201).json(v);
      },
    },
    {
      method: 'post',
      path: '/pricebook/what-if',
      permission: 'report:read',
      target: 'platform',
      input: { body: WhatIfBody, summary: 'Re-price a past period under a draft price book, per VDC' },
      handler: async (req, res) => {
        const b = parse(WhatIfBody, req.body ?? {});
        const period = { from: new Date(`${b.from}T00:00:00.000Z`), to: new Date(`${b.to}T00:00:00.000Z`) };
        const nowHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
        res.json(await billing.whatIf(b.draft, period, nowHour < period.to ? nowHour : period.to));
      },
    },
    {
      method: 'post',
      path: '/ledger/verify',
      input: { body: VerifyBody, bodyOptional: true },
      permission: 'report:read',
      target: 'platform',
      handler: async (req, res) => {
        const { vdcIds } = parse(VerifyBody, req.body ?? {});
        res.json(await billing.verify(vdcIds));
      },
    },
    {
      method: 'post',
      path: '/ledger/voids',
      input: { body: VoidLineBody, summary: 'Void a ledger line: kept, billed by no report, listed as voided; audited' },
      permission: 'ledger:void',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const b = parse(VoidLineBody, req.body);
        res.status(201).json(await billing.voidLine({ sub: caller.sub, name: caller.name }, b.lineId, b.reason, req.ip));
      },
    },
    {
      method: 'get',
      path: '/ledger/verifications',
      input: { query: VerificationsQuery, summary: 'Runs of the scheduled ledger verify, newest first' },
      permission: 'report:read',
      target: 'platform',
      handler: async (req, res) => void res.json({ items: await billing.verifications(parse(VerificationsQuery, req.query).limit) }),
    },
    {
      method: 'get',
      path: '/reports/vdcs/:id',
      input: { params: VdcParams, query: ReportQuery },
      permission: 'report:read',
      target: async (req): Promise<Target> => ({ kind: 'vdc', ...(await billing.vdcScope(vdcId(req))) }),
      handler: reportHandler(billing, (req) => ({ kind: 'vdc', id: vdcId(req) })),
    },
    {
      method: 'get',
      path: '/reports/domains/:id',
      input: { params: DomainParams, query: ReportQuery },
      permission: 'report:read',
      target: async (req): Promise<Target> => ({ kind: 'domain', ...(await billing.domainScope(domainId(req))) }),
      handler: reportHandler(billing, (req) => ({ kind: 'domain', id: domainId(req) })),
    },
    {
      method: 'get',
      path: '/reports/pools/:id',
      input: { params: DomainParams, query: ReportQuery },
      permission: 'report:read',
      target: 'platform',
      handler: reportHandler(billing, (req) => ({ kind: 'pool', id: poolId(req) })),
    },
    {
      method: 'get',
      path: '/reports/labels',
      input: { query: LabelReportQuery, summary: 'Report over the VDCs carrying a billing label (key=value)' },
      permission: 'report:read',
      target: 'platform',
      handler: reportHandler(billing, (req) => ({ kind: 'label', ...parseLabelSelector(parse(LabelReportQuery, req.query).label) }), LabelReportQuery),
    },
    {
      method: 'get',
      path: '/reports/platform',
      input: { query: ReportQuery },
      permission: 'report:read',
      target: 'platform',
      handler: reportHandler(billing, () => ({ kind: 'platform' })),
    },
  ];
}
