import { z } from 'zod';

/**
 * The config center contract (issue 11): ConfigMaps and Secrets of a VDC's namespaces, written by the API
 * and applied to the cluster by a short workflow whose input is the record id only. Secret values enter
 * the API in a request body, are sealed before they are stored, and leave Edgeport only to the cluster.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A ConfigMap / Secret key as Kubernetes accepts it (also a file name when mounted). */
export const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/**
 * Bytes all values of one item may add up to: the API takes JSON bodies up to 256 kB, and a binary file
 * arrives base64-encoded (4/3 of its size).
 */
export const CONFIG_MAX_BYTES = 160 * 1024;

export const CONFIG_KINDS = ['ConfigMap', 'Secret'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];
/** Path segment of each kind in `/api/vdcs/:id/configmaps|secrets`. */
export const CONFIG_KIND_PATH: Readonly<Record<ConfigKind, string>> = { ConfigMap: 'configmaps', Secret: 'secrets' };

export const SECRET_TYPES = ['opaque', 'tls'] as const;
export type SecretType = (typeof SECRET_TYPES)[number];
/** The Kubernetes `type` of each Secret type. */
export const SECRET_K8S_TYPE: Readonly<Record<SecretType, string>> = { opaque: 'Opaque', tls: 'kubernetes.io/tls' };

export const configNameSchema = z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');
export const configKeySchema = z
  .string()
  .min(1)
  .max(253)
  .regex(CONFIG_KEY, 'must be a ConfigMap key (letters, digits, -, _, .)')
  .refine((k) => k !== '.' && k !== '..', 'must not be . or ..');

/** One key → value. `base64: true`: `value` is base64 of the bytes (a binary file imported in the browser). */
const EntrySchema = z.strictObject({
  key: configKeySchema,
  value: z.string().max(CONFIG_MAX_BYTES * 2),
  base64: z.boolean().optional(),
});
export type ConfigEntry = z.infer<typeof EntrySchema>;

const entries = z
  .array(EntrySchema)
  .max(128)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((e, i) => {
      if (seen.has(e.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `duplicate key ${e.key}` });
      seen.add(e.key);
      if (e.base64 && !/^[A-Za-z0-9+/]*={0,2}$/.test(e.value)) ctx.addIssue({ code: 'custom', path: [i, 'value'], message: 'must be base64' });
    });
  });

/** Body of a ConfigMap create (`name` required) or replace (`name` from the path, optional here). */
export const ConfigMapBodySchema = z.strictObject({
  name: configNameSchema.optional(),
  /** An application space of the VDC; absent = the VDC's default namespace. */
  space: configNameSchema.optional(),
  entries: entries.min(1),
});
export type ConfigMapBody = z.infer<typeof ConfigMapBodySchema>;

/** Body of a Secret create / replace: opaque key → value entries, or a TLS pair (PEM certificate and key). */
export const SecretBodySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('opaque'), name: configNameSchema.optional(), space: configNameSchema.optional(), entries: entries.min(1) }),
  z.strictObject({
    type: z.literal('tls'),
    name: configNameSchema.optional(),
    space: configNameSchema.optional(),
    tls: z.strictObject({
      cert: z
        .string()
        .min(1)
        .max(256 * 1024),
      key: z
        .string()
        .min(1)
        .max(64 * 1024),
    }),
  }),
]);
export type SecretBody = z.infer<typeof SecretBodySchema>;

/** List / get query: the space whose namespace to read (absent: the VDC's default namespace). */
export const ConfigQuerySchema = z.strictObject({ space: configNameSchema.optional() });

/** One key as the API shows it: never a Secret's value; a ConfigMap's value is shown. */
export interface ConfigKeyView {
  key: string;
  /** Bytes of the value. */
  size: number;
  /** ConfigMap only; absent for binary values (`binary: true`). */
  value?: string;
  binary?: boolean;
}

export interface ConfigItemView {
  kind: ConfigKind;
  name: string;
  vdcId: string;
  namespace: string;
  space?: string;
  /** Secrets only. */
  type?: SecretType;
  keys: ConfigKeyView[];
  createdAt: string;
  updatedAt: string;
  updatedBy: { sub: string; name: string };
}

/** Non-retryable failure types of the config item activities. */
export const CONFIG_FAILURES = {
  /** The record is gone or no longer at the revision the workflow was started for. */
  stale: 'ConfigItemStale',
  /** The worker cannot open the sealed Secret values (no or another credentials key). */
  unreadable: 'ConfigItemUnreadable',
} as const;

/** Workflow id of one apply / delete of a config item (random suffix: each change is its own run). */
export const configItemWorkflowId = (namespace: string, kind: ConfigKind, name: string, op: 'apply' | 'delete', suffix: string): string =>
  `config-${op}-${namespace}-${kind.toLowerCase()}-${name}-${suffix}`;

/** Label on the cluster objects the config center owns (workloads never prune them). */
export const CONFIG_CENTER_LABEL = 'edgeport.io/config-center';
