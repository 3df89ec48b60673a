import { z } from 'zod';
import { displayText } from './display-text.ts';

/**
 * Field schemas and rules several ticket bodies share (quota amounts, label rules, space names). The bodies
 * themselves live in `common/ticket-types/<type>.ts`, one file per ticket type.
 */

/**
 * Quota resources a VDC holds per pool: cpu cores, memory GiB, pod count and requested storage GiB (the sum
 * of its PersistentVolumeClaims' requests: `requests.storage` in the ResourceQuota).
 */
export const QUOTA_RESOURCES = ['cpu', 'memoryGi', 'pods', 'storageGi'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Quota = Partial<Record<QuotaResource, number>>;

const cores = z.number().finite().min(0).max(100_000).multipleOf(0.001);
const gib = z.number().finite().min(0).max(1_000_000).multipleOf(0.001);
const count = z.number().int().min(0).max(1_000_000);
/** Per-resource schemas of a quota amount, for contracts that need a complete quota (e.g. a new VDC). */
export const QUOTA_FIELDS = { cpu: cores, memoryGi: gib, pods: count, storageGi: gib } as const;

/**
 * Storage quota (GiB) of a VDC on a pool whose quota was set before storage was quota (no `storageGi`): the
 * volume API and the workload preflight hold such a VDC to this much requested storage until a quota
 * change sets its own; a VDC created without one gets it as its `storageGi`.
 */
export const DEFAULT_STORAGE_QUOTA_GI = 100;

/** The storage quota (GiB) in force in `quota`: its `storageGi`, or {@link DEFAULT_STORAGE_QUOTA_GI}. */
export const storageQuotaGi = (quota: Quota | undefined): number => quota?.storageGi ?? DEFAULT_STORAGE_QUOTA_GI;

export const QuotaSchema = z
  .strictObject({ cpu: cores.optional(), memoryGi: gib.optional(), pods: count.optional(), storageGi: gib.optional() })
  .refine((q) => Object.values(q).some((v) => v !== undefined), { message: 'at least one of cpu, memoryGi, pods, storageGi is required' });

/** A DNS-1123 label (VDC ids, pool names, space names). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** `vdcId` of every ticket body. */
export const vdcIdField = z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label');
/** The optional free-text `reason` of every ticket body. */
export const reasonField = displayText({ max: 2000, min: 0, multiline: true }).optional();

/** Longest application space name; with the VDC id it must still fit a namespace name (63). */
export const SPACE_NAME_MAX = 40;
/** The one Kubernetes namespace of an application space: `<vdcId>-<name>`. */
export const spaceNamespace = (vdcId: string, name: string): string => `${vdcId}-${name}`;

/** Namespace prefixes a space may not take: Kubernetes' own, and VDCs' first namespaces (`vdc-<id>`). */
export const RESERVED_NAMESPACE_PREFIXES = ['kube-', 'vdc-'] as const;

/** The name of an application space (a DNS label that still fits `<vdcId>-<name>`). */
export const spaceNameField = z.string().min(1).max(SPACE_NAME_MAX).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');

/** Label key prefixes Edgeport or Kubernetes own; a tenant label there could override isolation (e.g. pod security). */
const RESERVED_LABEL_PREFIX = /(^|\.)(edgeport\.io|kubernetes\.io|k8s\.io)$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const MAX_SPACE_LABELS = 32;

/** Why `key` is not a Kubernetes label key a tenant may set, or undefined when it is fine. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'label name must be 1-63 characters of letters, digits, -, _, . starting and ending with a letter or digit';
  }
  if (prefix !== undefined) {
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return 'label prefix must be a DNS subdomain';
    if (RESERVED_LABEL_PREFIX.test(prefix)) return `label prefix ${prefix} is reserved`;
  }
  return undefined;
}

/** Why `value` is not a Kubernetes label value, or undefined when it is fine (empty is allowed). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  return value.length > 63 || !LABEL_NAME.test(value)
    ? 'label value must be empty or 1-63 characters of letters, digits, -, _, . starting and ending with a letter or digit'
    : undefined;
}

/** Tenant labels of a namespace, validated to the Kubernetes label rules; errors name `labels.<key>`. */
export const SpaceLabelsSchema = z.record(z.string().max(317), z.string().max(63)).superRefine((labels, ctx) => {
  const keys = Object.keys(labels);
  if (keys.length > MAX_SPACE_LABELS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_SPACE_LABELS} labels` });
  for (const key of keys) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(labels[key] ?? '');
    if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
  }
});
