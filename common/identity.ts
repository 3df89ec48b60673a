import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { Actor } from './roles.ts';

/**
 * Contract of the identity hardening routes: API tokens, IP allow/deny lists and certificate subjects.
 * Shape only: the API additionally checks what needs the server (held permissions, CIDR syntax with
 * `node:net`, the caller's own address).
 */

/** Prefix of every API token; the rest is 32 random bytes in base64url (43 characters). */
export const API_TOKEN_PREFIX = 'ep_';
export const API_TOKEN_PATTERN = /^ep_[A-Za-z0-9_-]{43}$/;

/** Body of `POST /api/tokens`. Each permission must be one the caller holds (checked by the API). */
export const CreateApiTokenSchema = z.strictObject({
  // Shown in lists and audit entries.
  name: displayText({ max: 100 }),
  permissions: z.array(z.string().min(1).max(64)).min(1).max(64),
  expiresInDays: z.number().int().min(1).max(365),
});
export type CreateApiToken = z.infer<typeof CreateApiTokenSchema>;

/** A token as its owner sees it in lists: never the token itself, only its display prefix. */
export interface ApiTokenView {
  id: string;
  name: string;
  /** First characters of the token (e.g. `ep_Ab12Cd`), to recognise it; not enough to use it. */
  prefix: string;
  permissions: string[];
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

/** Answer of `POST /api/tokens`: the only time the token is shown. */
export interface CreatedApiToken extends ApiTokenView {
  token: string;
}

/** Most entries per list; a bigger list belongs in a firewall. */
export const IP_LIST_MAX_ENTRIES = 1000;

/** Body of `PUT /api/ip-lists`: CIDRs (`10.0.0.0/8`, `2001:db8::/32`) or single addresses. */
export const IpListsSchema = z.strictObject({
  allow: z.array(z.string().max(64)).max(IP_LIST_MAX_ENTRIES),
  deny: z.array(z.string().max(64)).max(IP_LIST_MAX_ENTRIES),
});
export type IpLists = z.infer<typeof IpListsSchema>;

export interface IpListsView extends IpLists {
  updatedAt: string | null;
  updatedBy: Actor | null;
  /** The address this request came from as the API sees it (after trusted proxies): what the lock-out guard checks. */
  clientAddress: string | null;
}

/** Body of `PUT /api/users/:sub/cert-subject`; `null` removes the binding. */
export const CertSubjectSchema = z.strictObject({
  subject: z
    .string()
    .trim()
    .min(1)
    .max(1024)
    // eslint-disable-next-line no-control-regex -- a DN never holds control characters
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
    .nullable(),
});
export type CertSubjectBody = z.infer<typeof CertSubjectSchema>;
