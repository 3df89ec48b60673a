import { z } from 'zod';
import { displayText } from './display-text.ts';
import type { Actor } from './roles.ts';

/** Longest period one delegation may cover. */
export const MAX_DELEGATION_DAYS = 90;

/**
 * Body of `PUT /api/delegations`: the caller names a delegate who may decide approval steps in the
 * caller's place from `from` (default: now) until `until`. One delegation per (approver, delegate):
 * a second PUT for the same delegate replaces the period.
 */
export const PutDelegationSchema = z
  .strictObject({
    delegateSub: z.string().min(1).max(200),
    from: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }),
    reason: displayText({ max: 2000, min: 0, multiline: true }).optional(),
  })
  .superRefine((v, ctx) => {
    const from = v.from ? Date.parse(v.from) : undefined;
    const until = Date.parse(v.until);
    if (from !== undefined && until <= from) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after from' });
    if (until - (from ?? Date.now()) > MAX_DELEGATION_DAYS * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['until'], message: `a delegation covers at most ${MAX_DELEGATION_DAYS} days` });
  });
export type PutDelegation = z.infer<typeof PutDelegationSchema>;

/** A delegation as the API returns it. */
export interface DelegationView {
  id: string;
  delegator: Actor;
  delegate: Actor;
  from: string;
  until: string;
  reason?: string;
  createdAt: string;
  /** Whether it is in force now. */
  active: boolean;
}
