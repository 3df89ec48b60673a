import type { Response } from 'express';
import { z } from 'zod';
import type { AuditExportFormat, AuditStore } from '../../store/audit.ts';
import { parse } from '../errors.ts';
import type { RouteDef } from './define.ts';

const ListQuery = z.strictObject({
  action: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only')
    .optional(),
  actorSub: z.string().min(1).max(200).optional(),
  from: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  to: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  afterSeq: z.coerce.number().int().min(0).optional(),
});
const ExportQuery = z.strictObject({ format: z.enum(['jsonl', 'csv']).default('jsonl') });
const VerifyBody = z.strictObject({});

const CONTENT_TYPE: Record<AuditExportFormat, string> = { jsonl: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' };

/** Writes one chunk, waiting for the socket to drain when its buffer is full. */
const writeTo =
  (res: Response) =>
  (chunk: string): Promise<void> | void => {
    if (res.write(chunk)) return;
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        res.off('drain', onDrain);
        res.off('close', onClose);
      };
      const onDrain = (): void => (cleanup(), resolve());
      const onClose = (): void => (cleanup(), reject(new Error('client went away during the audit export')));
      res.once('drain', onDrain).once('close', onClose);
    });
  };

/** The platform audit log: list with paging, export, verify. Reading and exporting it is itself audited. */
export function auditRoutes(audit: AuditStore): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/audit',
      input: { query: ListQuery },
      permission: 'audit:read',
      target: 'platform',
      handler: async (req, res) => {
        const q = parse(ListQuery, req.query);
        const items = await audit.list(q);
        const last = items.at(-1);
        res.json({ items, ...(items.length === q.limit && last ? { nextAfterSeq: last.seq } : {}) });
      },
    },
    {
      method: 'get',
      path: '/audit/export',
      input: { query: ExportQuery },
      permission: 'audit:read',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const { format } = parse(ExportQuery, req.query);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        res.status(200).set({
          'Content-Type': CONTENT_TYPE[format],
          'Content-Disposition': `attachment; filename="edgeport-audit-${stamp}.${format}"`,
          'Cache-Control': 'no-store',
        });
        let count: number;
        try {
          count = await audit.export(format, writeTo(res));
        } catch (err) {
          // Headers are out: a cut-off transfer is the only way left to tell the client it is incomplete.
          if (res.headersSent) res.destroy();
          throw err;
        }
        res.end();
        await audit.append({
          actor: { sub: caller.sub, name: caller.name },
          action: 'audit.export',
          target: 'audit',
          outcome: 'success',
          details: { format, entries: count },
          ip: req.ip,
        });
      },
    },
    {
      method: 'post',
      path: '/audit/verify',
      input: { body: VerifyBody, bodyOptional: true },
      permission: 'audit:read',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        parse(VerifyBody, req.body ?? {});
        const result = await audit.verify();
        await audit.append({
          actor: { sub: caller.sub, name: caller.name },
          action: 'audit.verify',
          target: 'audit',
          outcome: result.ok ? 'success' : 'failure',
          details: { checked: result.checked, headSeq: result.headSeq, problems: result.problems.length },
          ip: req.ip,
        });
        res.json(result);
      },
    },
  ];
}
