import { z } from 'zod';
import { DNS_LABEL, DNS_SUBDOMAIN, labelKeyProblem, labelValueProblem, reasonField, SpaceLabelsSchema, vdcIdField } from '../ticket-fields.ts';
import { defineTicketType } from './kit.ts';

/** Node architectures an edge node may report (`kubernetes.io/arch`). */
export const NODE_ARCHES = ['amd64', 'arm64', 'arm', 'riscv64', 'ppc64le', 's390x'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const NODE_JOIN_TTL_MINUTES = { min: 5, max: 1440 } as const;
export const MAX_NODE_TAINTS = 16;

/** A taint the joined node gets; key follows the label-key rules (reserved prefixes refused), value the label-value rules. */
const NodeTaintSchema = z
  .strictObject({ key: z.string().min(1).max(317), value: z.string().max(63).optional(), effect: z.enum(TAINT_EFFECTS) })
  .superRefine((t, ctx) => {
    const kp = labelKeyProblem(t.key);
    if (kp) ctx.addIssue({ code: 'custom', path: ['key'], message: kp.replace(/^label/, 'taint key') });
    const vp = t.value === undefined ? undefined : labelValueProblem(t.value);
    if (vp) ctx.addIssue({ code: 'custom', path: ['value'], message: vp.replace(/^label/, 'taint') });
  });
export type NodeTaint = z.infer<typeof NodeTaintSchema>;

/** Body of `POST /api/tickets` joining edge node `nodeName` to resource pool `pool` for the VDC. */
export const NodeJoinRequestSchema = z.strictObject({
  type: z.literal('node-join'),
  vdcId: vdcIdField,
  pool: z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label'),
  nodeName: z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain (lower-case letters, digits, - and .)'),
  arch: z.enum(NODE_ARCHES).optional(),
  labels: SpaceLabelsSchema.optional(),
  taints: z.array(NodeTaintSchema).max(MAX_NODE_TAINTS).optional(),
  tokenTtlMinutes: z.number().int().min(NODE_JOIN_TTL_MINUTES.min).max(NODE_JOIN_TTL_MINUTES.max),
  reason: reasonField,
});
export type NodeJoinRequest = z.infer<typeof NodeJoinRequestSchema>;

/** The `node-join` ticket type. */
export const NODE_JOIN = defineTicketType({
  type: 'node-join',
  schema: NodeJoinRequestSchema,
  previewKind: 'node-join',
  cancelWindow: 'until-decided',
  labels: { en: 'Join edge node', 'zh-CN': '边缘节点接入' },
});
