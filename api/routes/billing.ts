import type { Request, Response } from 'express';
import { z } from 'zod';
import { PriceBookInputSchema } from '../../common/billing.ts';
import { domainIdSchema, vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { InputError, parse } from '../errors.ts';
import { chargebackCsv, showbackCsv, type ReportScope } from '../services/billing-report.ts';
import type { BillingService } from '../services/billing.ts';
import type { RouteDef } from './define.ts';
import { pathParam as param } from './params.ts';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;
const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((s) => new Date(s.length === 10 ? `${s}T00:00:00.000Z` : s));

/** `?month=YYYY-MM` | `?day=YYYY-MM-DD` | `?from=…&to=…` (half-open), plus kind, format and asOf. */
const ReportQuery = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM').optional(),
  day: z.iso.date().optional(),
  from: dateOrTime.optional(),
  to: dateOrTime.optional(),
  kind: z.enum(['showback', 'chargeback']).default('chargeback'),
  format: z.enum(['json', 'csv']).default('json'),
  asOf: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
});

const VerifyBody = z.strictObject({ vdcIds: z.array(vdcIdSchema).min(1).max(1000).optional() });

function periodOf(q: z.infer<typeof ReportQuery>): { from: Date; to: Date } {
  const given = [q.month, q.day, q.from ?? q.to].filter((v) => v !== undefined).length;
  if (given !== 1) throw new InputError('invalid request: period: give exactly one of month, day, or from and to', [{ field: 'month', message: 'give exactly one of month, day, or from and to' }]);
  if (q.month) {
    const from = new Date(`${q.month}-01T00:00:00.000Z`);
    return { from, to: new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)) };
  }
  if (q.day) {
    const from = new Date(`${q.day}T00:00:00.000Z`);
    return { from, to: new Date(from.getTime() + DAY_MS) };
  }
  if (!q.from || !q.to) throw new InputError('invalid request: to: from and to go together', [{ field: q.from ? 'to' : 'from', message: 'from and to go together' }]);
  if (q.to <= q.from || q.to.getTime() - q.from.getTime() > MAX_DAYS * DAY_MS) throw new InputError(`invalid request: to: must be after from, at most ${MAX_DAYS} days`, [{ field: 'to', message: `must be after from, at most ${MAX_DAYS} days` }]);
  return { from: q.from, to: q.to };
}

/** Showback / chargeback of one scope; the period's end, or now (to the hour) while it is open, bounds it. */
function reportHandler(billing: BillingService, scopeOf: (req: Request) => ReportScope) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = parse(ReportQuery, req.query);
    const period = periodOf(q);
    const nowHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const asOf = q.asOf ?? (nowHour < period.to ? nowHour : period.to);
    const scope = scopeOf(req);
    const report = await billing.report(q.kind, scope, period, asOf);
    if (q.format === 'json') return void res.json(report);
    const csv = report.kind === 'chargeback' ? chargebackCsv(report) : showbackCsv(report);
    const name = `edgeport-${report.kind}-${scope.kind}${'id' in scope ? `-${scope.id}` : ''}-${period.from.toISOString().slice(0, 10)}.csv`;
    res.status(200).set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' }).send(csv);
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
      permission: 'pricebook:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const v = await billing.publishPriceBook({ sub: caller.sub, name: caller.name }, parse(PriceBookInputSchema, req.body), req.ip);
        res.status(201).json(v);
      },
    },
    {
      method: 'post',
      path: '/ledger/verify',
      permission: 'report:read',
      target: 'platform',
      handler: async (req, res) => {
        const { vdcIds } = parse(VerifyBody, req.body ?? {});
        res.json(await billing.verify(vdcIds));
      },
    },
    {
      method: 'get',
      path: '/reports/vdcs/:id',
      permission: 'report:read',
      target: async (req): Promise<Target> => ({ kind: 'vdc', ...(await billing.vdcScope(vdcId(req))) }),
      handler: reportHandler(billing, (req) => ({ kind: 'vdc', id: vdcId(req) })),
    },
    {
      method: 'get',
      path: '/reports/domains/:id',
      permission: 'report:read',
      target: async (req): Promise<Target> => ({ kind: 'domain', ...(await billing.domainScope(domainId(req))) }),
      handler: reportHandler(billing, (req) => ({ kind: 'domain', id: domainId(req) })),
    },
    {
      method: 'get',
      path: '/reports/pools/:id',
      permission: 'report:read',
      target: 'platform',
      handler: reportHandler(billing, (req) => ({ kind: 'pool', id: poolId(req) })),
    },
    {
      method: 'get',
      path: '/reports/platform',
      permission: 'report:read',
      target: 'platform',
      handler: reportHandler(billing, () => ({ kind: 'platform' })),
    },
  ];
}
