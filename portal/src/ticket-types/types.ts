import type { PayloadOf, PreviewByType, Quota, TicketType, TicketViewOf } from '@common/tickets';
import type { Component } from 'vue';

/** What a ticket asks for, as TicketDetail shows it: a quota (shown as amounts) or one line of text. */
export type TicketSummary = { kind: 'quota'; quota: Quota } | { kind: 'text'; text: string };

/**
 * Everything the portal knows about one ticket type. Adding a type means one file beside this one
 * (plus its form and views) and one line in `index.ts`; NewRequest, TicketDetail and PreviewDetails
 * read only the registry.
 */
export interface TicketTypeEntry<T extends TicketType> {
  readonly type: T;
  /**
   * The form on the New request page (`/tickets/new/<type>`). Absent: the type is requested from
   * another page (image publish from Images, day-2 operations from Workloads).
   */
  readonly form?: Component;
  /** The request line on TicketDetail. */
  readonly summary: (payload: PayloadOf<T>) => TicketSummary;
  /**
   * What the preflight found, shown to approvers above the shared cost block. It receives `preview`
   * (the type's own `PreviewByType[T]`). Absent: nothing beyond the cost block.
   */
  readonly preview?: Component;
  /** A card of the type's own on TicketDetail below the request; it receives `ticket`. */
  readonly panel?: Component;
}

/** The props a type's `panel` receives. */
export interface TicketPanelProps<T extends TicketType> {
  ticket: TicketViewOf<T>;
}

/** The props a type's `preview` view receives. */
export interface TicketPreviewProps<T extends TicketType> {
  preview: PreviewByType[T];
}
