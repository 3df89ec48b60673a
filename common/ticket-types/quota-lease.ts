import { z } from 'zod';
import { QuotaSchema, reasonField, vdcIdField } from '../ticket-fields.ts';
import { defineTicketType } from './kit.ts';

/** Longest quota lease: 90 days. */
export const MAX_LEASE_HOURS = 90 * 24;
const HOUR_MS = 3_600_000;

/**
 * Body of `POST /api/tickets` for a quota lease: `quota` is the quota in force during the lease (a
 * temporary increase), from `startsAt` (default: when approved) until `endsAt`, or for `durationHours`.
 * Exactly one of `endsAt` / `durationHours`; the end after the start; at most 90 days. Whether the end
 * is still in the future is the policy's call (time is its input).
 */
export const QuotaLeaseRequestSchema = z
  .strictObject({
    type: z.literal('quota-lease'),
    vdcId: vdcIdField,
    quota: QuotaSchema,
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    durationHours: z.number().finite().positive().max(MAX_LEASE_HOURS).optional(),
    reason: reasonField,
  })
  .superRefine((v, ctx) => {
    if ((v.endsAt === undefined) === (v.durationHours === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'exactly one of endsAt or durationHours is required' });
      return;
    }
    if (v.endsAt !== undefined && v.startsAt !== undefined) {
      const hours = (Date.parse(v.endsAt) - Date.parse(v.startsAt)) / HOUR_MS;
      if (hours <= 0) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
      else if (hours > MAX_LEASE_HOURS) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a lease lasts at most 90 days' });
    }
  });
export type QuotaLeaseRequest = z.infer<typeof QuotaLeaseRequestSchema>;

/**
 * The lease window in epoch ms when the lease begins no earlier than `notBeforeMs` (submit or approval
 * time): it starts at `startsAt` or then, whichever is later, and ends at `endsAt` or `durationHours`
 * after the start. Pure (time is an input), so the policy and the workflow compute the same window.
 */
export function leaseWindow(lease: Pick<QuotaLeaseRequest, 'startsAt' | 'endsAt' | 'durationHours'>, notBeforeMs: number): { startMs: number; endMs: number } {
  const startMs = Math.max(lease.startsAt !== undefined ? Date.parse(lease.startsAt) : notBeforeMs, notBeforeMs);
  const endMs = lease.endsAt !== undefined ? Date.parse(lease.endsAt) : startMs + Math.round((lease.durationHours ?? 0) * HOUR_MS);
  return { startMs, endMs };
}

/** The `quota-lease` ticket type. */
export const QUOTA_LEASE = defineTicketType({
  type: 'quota-lease',
  schema: QuotaLeaseRequestSchema,
  previewKind: 'quota',
  cancelWindow: 'until-started',
  labels: { en: 'Quota lease (temporary increase)', 'zh-CN': '临时配额（租期）' },
});
