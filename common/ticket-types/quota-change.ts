import { z } from 'zod';
import { QuotaSchema, reasonField, vdcIdField } from '../ticket-fields.ts';
import { defineTicketType } from './kit.ts';

/** Body of `POST /api/tickets` for a quota change. Unknown fields are refused. */
export const QuotaChangeRequestSchema = z.strictObject({
  type: z.literal('quota-change'),
  vdcId: vdcIdField,
  quota: QuotaSchema,
  reason: reasonField,
});
export type QuotaChangeRequest = z.infer<typeof QuotaChangeRequestSchema>;

/** The `quota-change` ticket type. */
export const QUOTA_CHANGE = defineTicketType({
  type: 'quota-change',
  schema: QuotaChangeRequestSchema,
  previewKind: 'quota',
  cancelWindow: 'until-decided',
  labels: { en: 'Quota change', 'zh-CN': '配额变更' },
});
