import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { Actor } from './roles.ts';

/**
 * Third-party Harbor registries (`/api/harbor-registries`): operations admins connect a Harbor by URL and
 * credentials (a user's password or a robot secret), Edgeport checks them on save and lets admins browse the
 * registry (projects → repositories → tags with the pull command). The secret goes in with the connect body and
 * never comes out again; workflows carry the registry id only (the worker's activity opens the sealed secret).
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const harborRegistryIdSchema = z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and -)');

/** Harbor project name rules (lower-case, digits, `._-`, 1–255). */
export const harborProjectSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must be a Harbor project name');
/** `<project>/<name>` (name may contain `/`). */
export const harborRepositorySchema = z
  .string()
  .min(3)
  .max(255)
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/, 'must be <project>/<name>');

const harborUrl = z
  .string()
  .max(2048)
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
  .refine((u) => {
    const p = new URL(u);
    return !p.username && !p.password && !p.search && !p.hash;
  }, 'must not carry credentials, a query or a fragment');

export const ConnectHarborRegistrySchema = z.strictObject({
  id: harborRegistryIdSchema,
  name: displayText({ max: 80 }),
  url: harborUrl,
  /** A Harbor user, or a robot account's full name (`robot$…`). */
  username: z.string().min(1).max(255),
  /** The user's password or the robot's secret: sealed before it is stored, never returned. */
  password: z.string().min(1).max(1024),
});
export type ConnectHarborRegistry = z.infer<typeof ConnectHarborRegistrySchema>;

export const BrowseHarborQuerySchema = z.strictObject({ project: harborProjectSchema.optional(), repository: harborRepositorySchema.optional() });
export type BrowseHarborQuery = z.infer<typeof BrowseHarborQuerySchema>;

/** A connected registry as the API returns it: never the secret. */
export interface HarborRegistryView {
  id: string;
  name: string;
  url: string;
  username: string;
  status: 'connected';
  /** Projects visible at the last check. */
  projectCount: number;
  checkedAt: string;
  checkMs: number;
  createdBy: Actor;
  createdAt: string;
}

export interface HarborProjectView {
  name: string;
  public: boolean;
  repoCount: number;
}
export interface HarborTagView {
  tag: string;
  /** `docker pull <host>/<repository>:<tag>`. */
  pullCommand: string;
}

/** One level of a registry: its projects, a project's repositories, or a repository's tags. */
export type HarborBrowseResult =
  | { level: 'projects'; projects: HarborProjectView[] }
  | { level: 'repositories'; project: string; repositories: string[] }
  | { level: 'tags'; repository: string; tags: HarborTagView[] };

/** What a check found (recorded on the registry by the activity). */
export interface HarborRegistryCheckResult {
  projectCount: number;
  checkMs: number;
}

/** Failure type names of third-party registry activities (non-retryable); the API maps them to statuses and fields. */
export const HARBOR_REGISTRY_FAILURES = {
  /** Harbor answered 401/403 to the stored credentials. */
  credentialsRefused: 'HarborCredentialsRefused',
  /** The URL answers, but not as Harbor v2.0 (404 on `/api/v2.0/projects`, or an unexpected body). */
  notHarbor: 'HarborNotHarbor',
  /** No registry record with that id (deleted meanwhile). */
  notFound: 'HarborRegistryNotFound',
  /** The stored secret cannot be decrypted (tampered record or unknown key id). */
  credentialsUnreadable: 'HarborCredentialsUnreadable',
  /** The project or repository browsed does not exist. */
  browseNotFound: 'HarborBrowseNotFound',
} as const;

/** Workflow id of one short registry workflow: `harbor-registry-<id>-<purpose>-<random>`. */
export const harborRegistryWorkflowId = (id: string, purpose: 'check' | 'browse', random: string): string => `harbor-registry-${id}-${purpose}-${random}`;
