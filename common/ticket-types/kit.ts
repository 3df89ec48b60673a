import type { z } from 'zod';

/**
 * Kinds of preflight preview a ticket can carry. Several types share one (a quota lease previews like a quota
 * change); the portal picks the preview component by kind (`TICKET_TYPE_SPECS[type].previewKind`), never by
 * guessing from the preview's shape.
 */
export const PREVIEW_KINDS = ['quota', 'space', 'node-join', 'workload', 'image-publish', 'workload-operation'] as const;
export type PreviewKind = (typeof PREVIEW_KINDS)[number];

/**
 * Until when the requester (or a VDC / operations admin) may cancel a ticket:
 * - `until-decided`: while it is submitted or pending approval;
 * - `until-started`: also once approved, until the workflow starts executing (a lease waiting for its start);
 *   the API asks the workflow itself, see `awaitingStart` in `api/services/ticket-types/`.
 */
export const CANCEL_WINDOWS = ['until-decided', 'until-started'] as const;
export type CancelWindow = (typeof CANCEL_WINDOWS)[number];

/** Locales of the portal; every ticket type names itself in each. */
export type TicketTypeLabels = { readonly en: string; readonly 'zh-CN': string };

/**
 * The pure half of a ticket type (shared by api, workflows and portal): its request body, how it is
 * previewed, when it can be cancelled and what it is called. The API half (policy, context, workflow) is
 * in `api/services/ticket-types/<type>.ts`.
 */
export interface TicketTypeSpec<T extends string = string, S extends z.ZodType<{ type: T }> = z.ZodType<{ type: T }>, K extends PreviewKind = PreviewKind> {
  readonly type: T;
  /** The body of `POST /api/tickets` for this type (a member of `SubmitTicketSchema`, discriminated by `type`). */
  readonly schema: S;
  readonly previewKind: K;
  readonly cancelWindow: CancelWindow;
  readonly labels: TicketTypeLabels;
}

/** Declares a ticket type, keeping its literal `type`, schema and preview kind in the inferred type. */
export function defineTicketType<const T extends string, S extends z.ZodType<{ type: T }>, const K extends PreviewKind>(
  spec: TicketTypeSpec<T, S, K>,
): TicketTypeSpec<T, S, K> {
  return spec;
}
