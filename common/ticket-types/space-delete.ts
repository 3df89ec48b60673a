import { z } from 'zod';
import { reasonField, spaceNameField, vdcIdField } from '../ticket-fields.ts';
import { defineTicketType } from './kit.ts';

/** Body of `POST /api/tickets` deleting an application space of the VDC (its namespace and record). */
export const SpaceDeleteRequestSchema = z.strictObject({
  type: z.literal('space-delete'),
  vdcId: vdcIdField,
  name: spaceNameField,
  reason: reasonField,
});
export type SpaceDeleteRequest = z.infer<typeof SpaceDeleteRequestSchema>;

/** The `space-delete` ticket type. */
export const SPACE_DELETE = defineTicketType({
  type: 'space-delete',
  schema: SpaceDeleteRequestSchema,
  previewKind: 'space',
  cancelWindow: 'until-decided',
  labels: { en: 'Delete application space', 'zh-CN': '删除应用空间' },
});
