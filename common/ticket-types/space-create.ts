import { z } from 'zod';
import { RESERVED_NAMESPACE_PREFIXES, reasonField, SpaceLabelsSchema, spaceNameField, spaceNamespace, vdcIdField } from '../ticket-fields.ts';
import { defineTicketType } from './kit.ts';

/** Body of `POST /api/tickets` creating an application space (one namespace `<vdcId>-<name>` of the VDC). */
export const SpaceCreateRequestSchema = z
  .strictObject({
    type: z.literal('space-create'),
    vdcId: vdcIdField,
    name: spaceNameField,
    labels: SpaceLabelsSchema.optional(),
    reason: reasonField,
  })
  .superRefine((v, ctx) => {
    const namespace = spaceNamespace(v.vdcId, v.name);
    if (namespace.length > 63) ctx.addIssue({ code: 'custom', path: ['name'], message: 'namespace <vdcId>-<name> exceeds 63 characters' });
    const reserved = RESERVED_NAMESPACE_PREFIXES.find((p) => namespace.startsWith(p));
    if (reserved) ctx.addIssue({ code: 'custom', path: ['vdcId'], message: `namespace ${namespace} would start with the reserved prefix ${reserved}` });
  });
export type SpaceCreateRequest = z.infer<typeof SpaceCreateRequestSchema>;

/** The `space-create` ticket type. */
export const SPACE_CREATE = defineTicketType({
  type: 'space-create',
  schema: SpaceCreateRequestSchema,
  previewKind: 'space',
  cancelWindow: 'until-decided',
  labels: { en: 'Create application space', 'zh-CN': '创建应用空间' },
});
