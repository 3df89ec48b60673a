import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { ImageScanView, ScanFinding } from './image-scan.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A repository path below its namespace: lower-case components separated by `/` (OCI distribution name rules). */
const REPO_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Body of `POST /api/tickets` promoting an image pushed to the VDC's staging repository
 * (`staging-<vdcId>/<name>:<tag>`) to the VDC's private repository (`vdc-<vdcId>/<name>`) or to public
 * (`public/<name>`), copied by digest. `scanOverride` (operations admins only, by policy) lets an image with
 * High/Critical findings through; its reason is recorded on the ticket.
 */
export const ImagePublishRequestSchema = z.strictObject({
  type: z.literal('image-publish'),
  vdcId: z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label'),
  source: z.strictObject({
    name: z.string().min(1).max(200).regex(REPO_NAME, 'must be a repository name (lower-case letters, digits, . _ - and /)'),
    tag: z.string().regex(TAG, 'must be a tag (letters, digits, . _ -, at most 128)'),
  }),
  target: z.strictObject({
    visibility: z.enum(['private', 'public']),
    /** Repository name at the target; default: the source's name. */
    name: z.string().min(1).max(200).regex(REPO_NAME, 'must be a repository name (lower-case letters, digits, . _ - and /)').optional(),
    /** Tag at the target; default: the source's tag. */
    tag: z.string().regex(TAG, 'must be a tag (letters, digits, . _ -, at most 128)').optional(),
  }),
  scanOverride: z.strictObject({ reason: displayText({ max: 2000, multiline: true }).min(10, 'give a reason of at least 10 characters') }).optional(),
  reason: displayText({ max: 2000, min: 0, multiline: true }).optional(),
});
export type ImagePublishRequest = z.infer<typeof ImagePublishRequestSchema>;

/** Source and target repositories of a publish request. */
export function publishRepositories(
  vdcId: string,
  p: Pick<ImagePublishRequest, 'source' | 'target'>,
): { source: string; sourceTag: string; target: string; targetTag: string } {
  const name = p.target.name ?? p.source.name;
  return {
    source: `staging-${vdcId}/${p.source.name}`,
    sourceTag: p.source.tag,
    target: p.target.visibility === 'public' ? `public/${name}` : `vdc-${vdcId}/${name}`,
    targetTag: p.target.tag ?? p.source.tag,
  };
}

/** What the publish preflight found; approvers decide on this (identified by its hash). */
export interface ImagePublishPreview {
  hash: string;
  source: { repository: string; tag: string; digest: string | null };
  target: { repository: string; tag: string; visibility: 'private' | 'public'; pullRef: string };
  image: { size: number; multiArch: boolean; platforms: { os: string; architecture: string; digest: string; size: number }[] } | null;
  /** The scan the decision rests on (findings trimmed to the 50 most severe). */
  scan: (Omit<ImageScanView, 'findings'> & { findings: ScanFinding[] }) | null;
  /** Findings at or above High: they block promotion unless overridden. */
  blocking: ScanFinding[];
  override: { reason: string } | null;
  /** Digest the target tag points to now, if it exists (a different one is replaced). */
  targetDigest: string | null;
  /** Why the ticket cannot proceed (the ticket fails with these). */
  errors: string[];
  checkedAt: string;
}
