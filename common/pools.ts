import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { Actor } from './roles.ts';

/**
 * Contract of the resource-pool API (`/api/pools`), shared by the api and the portal. A resource pool is a
 * Kubernetes cluster Edgeport schedules tenants onto; its credentials go in with the registration body and
 * never come out again (views carry the auth *type* only).
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const poolIdSchema = z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and -)');
/** A Node name: a DNS subdomain. */
export const nodeNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes node name');

/** Largest kubeconfig accepted (UTF-8 bytes). */
export const MAX_KUBECONFIG_BYTES = 64 * 1024;
const MAX_PEM_B64 = 64 * 1024;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** Decodes standard base64 (no whitespace) to text, or undefined when it is not base64. */
function base64Text(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  try {
    return atob(s);
  } catch {
    return undefined;
  }
}

/** Base64 of a PEM document containing a block of `kind` (e.g. `CERTIFICATE`, `PRIVATE KEY`). */
const base64Pem = (kind: RegExp, what: string) =>
  z
    .string()
    .min(1)
    .max(MAX_PEM_B64)
    .refine((s) => {
      const text = base64Text(s);
      return text !== undefined && kind.test(text);
    }, `must be base64 of a PEM ${what}`);

const caData = base64Pem(/-----BEGIN CERTIFICATE-----/, 'CA certificate');

/** How Edgeport authenticates to the pool's kube-apiserver. */
export const PoolAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('kubeconfig'),
    /** A self-contained kubeconfig (YAML): only its current context is used, and only embedded data. */
    kubeconfig: z
      .string()
      .min(1)
      .refine((s) => utf8Length(s) <= MAX_KUBECONFIG_BYTES, `must be at most ${MAX_KUBECONFIG_BYTES / 1024} KiB`),
  }),
  z.strictObject({
    type: z.literal('token'),
    token: z
      .string()
      .min(1)
      .max(16_384)
      .regex(/^[\x21-\x7e]+$/, 'must be a bearer token (printable, no spaces)'),
    caData,
  }),
  z.strictObject({
    type: z.literal('client-cert'),
    certData: base64Pem(/-----BEGIN CERTIFICATE-----/, 'client certificate'),
    keyData: base64Pem(/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, 'private key'),
    caData,
  }),
]);
export type PoolAuth = z.infer<typeof PoolAuthSchema>;
export type PoolAuthType = PoolAuth['type'];

/** The kube-apiserver URL: https only, no credentials, query or fragment; a trailing slash is dropped. */
export const poolServerSchema = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .max(2048)
  .refine((s) => {
    const u = new URL(s);
    return !u.username && !u.password && !u.search && !u.hash;
  }, 'must not carry credentials, a query or a fragment')
  .transform((s) => s.replace(/\/+$/, ''));

/** Body of `POST /api/pools`. Unknown fields are refused with the field named. */
export const RegisterPoolSchema = z.strictObject({
  id: poolIdSchema,
  name: displayText({ max: 200 }),
  server: poolServerSchema,
  auth: PoolAuthSchema,
});
export type RegisterPool = z.infer<typeof RegisterPoolSchema>;

/**
 * `checking`: stored, the registration check has not finished; `ready`: /version and /readyz answered;
 * `unreachable`: no connection, TLS failure or apiserver not ready; `refused`: the cluster answered 401/403.
 */
export const POOL_STATUSES = ['checking', 'ready', 'unreachable', 'refused'] as const;
export type PoolStatus = (typeof POOL_STATUSES)[number];

/**
 * The pool's read-only identity (`edgeport-reader`), which the API reads workloads, pods, events, logs,
 * claims and quota usage with: `ready`, or `unavailable` (the reason says why; those reads then answer 503).
 */
export const POOL_READER_STATUSES = ['ready', 'unavailable'] as const;
export type PoolReaderStatus = (typeof POOL_READER_STATUSES)[number];

export interface PoolVersion {
  gitVersion: string;
  platform?: string;
}

export interface PoolView {
  id: string;
  name: string;
  server: string;
  authType: PoolAuthType;
  status: PoolStatus;
  /** Why the pool is not ready (absent when ready). */
  reason?: string;
  version?: PoolVersion;
  /** When the last reachability check ran. */
  checkedAt?: string;
  /** How long the last check took, in ms. */
  checkMs?: number;
  createdBy: Actor;
  createdAt: string;
  /** The read-only identity the API reads tenants' objects with; absent until the first check made it. */
  reader?: { status: PoolReaderStatus; reason?: string };
}

export const NODE_STATUSES = ['Ready', 'NotReady', 'Unknown'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** One resource summed over a pool: nodes' capacity and allocatable, pods' requests. */
export interface ResourceTotals {
  capacity: number;
  allocatable: number;
  requested: number;
}

export interface ComponentHealth {
  name: 'apiserver' | 'controller-manager' | 'scheduler';
  status: 'healthy' | 'unhealthy' | 'unknown';
  detail: string;
  /** apiserver: the named /readyz checks that failed (empty when all pass). */
  failedChecks?: string[];
}

export interface PoolOverview {
  pool: PoolView;
  nodes: Record<NodeStatus, number> & { total: number; unschedulable: number };
  components: ComponentHealth[];
  /** cpu in cores, memory and storage (ephemeral-storage) in GiB, pods as counts; rounded to 3 decimals. */
  resources: { cpu: ResourceTotals; memoryGi: ResourceTotals; storageGi: ResourceTotals; pods: ResourceTotals };
  /** Persistent volume claims: requested GiB over all namespaces (null when the pool's identity may not list them). */
  claimsGi: number | null;
  readAt: string;
}

export interface NodeView {
  name: string;
  status: NodeStatus;
  schedulable: boolean;
  architecture: string;
  os: string;
  kubeletVersion: string;
  /** Pods assigned to the node and not finished. */
  pods: number;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  capacity: { cpu: number; memoryGi: number; pods: number };
  createdAt?: string;
}
