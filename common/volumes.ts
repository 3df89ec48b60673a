import { z } from 'zod';
import { SPACE_NAME_MAX } from './tickets.ts';
import { ACCESS_MODES, volumeSizeField, type AccessMode } from './workload.ts';

/**
 * Standalone volumes (PersistentVolumeClaims made outside any workload's deploy), the contract between
 * the api, the volume activities and the portal. A workload mounts one with `{ name, existing: true }`
 * in its spec; volumes a workload owns through its spec stay managed by its deploy.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (max = 63) => z.string().min(1).max(max).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');

export const volumeNameSchema = dnsLabel();

export const CreateVolumeSchema = z.strictObject({
  name: volumeNameSchema,
  /** The application space; absent: the VDC's first namespace. */
  space: z.string().min(1).max(SPACE_NAME_MAX).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)').optional(),
  size: volumeSizeField,
  accessMode: z.enum(ACCESS_MODES),
  storageClass: dnsLabel(253).optional(),
});
export type CreateVolume = z.infer<typeof CreateVolumeSchema>;

export const ExpandVolumeSchema = z.strictObject({ size: volumeSizeField });
export type ExpandVolume = z.infer<typeof ExpandVolumeSchema>;

/** A standalone volume as recorded. */
export interface VolumeRecord {
  vdcId: string;
  namespace: string;
  name: string;
  size: string;
  accessMode: AccessMode;
  storageClass?: string;
  createdAt: string;
  createdBy: { sub: string; name: string };
}

/** One volume of a VDC as listed: recorded facts joined with what the cluster says now. */
export interface VolumeView {
  namespace: string;
  name: string;
  /** `volume`: made here (expand/delete here); `workload`: owned by that workload's deploy spec. */
  managedBy: 'volume' | 'workload';
  owner?: string;
  size: string;
  accessMode: AccessMode;
  storageClass?: string;
  /** Live claim: phase and the capacity the volume has now (absent before it is bound). */
  phase?: string;
  capacity?: string;
  /** Workloads (and bare pods) mounting it: recorded specs and live objects, e.g. `workload db`, `pod x`. */
  mountedBy: string[];
}

/** Live facts of one claim as the volume activities read them. */
export interface LiveClaim {
  namespace: string;
  name: string;
  phase?: string;
  capacity?: string;
  storageClass?: string;
  users: string[];
}

/** Labels of the claims made here; `edgeport.io/volume` marks a standalone one (workloads' carry the workload name). */
export const VOLUME_LABELS = {
  vdc: 'edgeport.io/vdc',
  standalone: 'edgeport.io/volume',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Non-retryable failure types of the volume activities. */
export const VOLUME_ERRORS = {
  inUse: 'VolumeInUse',
  exists: 'VolumeExists',
} as const;

export type VolumeOperation =
  | { op: 'create'; vdcId: string; namespace: string; name: string }
  | { op: 'expand'; vdcId: string; namespace: string; name: string }
  | { op: 'delete'; vdcId: string; namespace: string; name: string };

/** Workflow id of one short volume workflow: `volume-<vdc>-<purpose>-<random>`. */
export const volumeWorkflowId = (vdcId: string, purpose: 'create' | 'expand' | 'delete' | 'list', random: string): string =>
  `volume-${vdcId}-${purpose}-${random}`;
