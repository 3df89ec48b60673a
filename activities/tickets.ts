import type { Store } from '../store/index.ts';
import type { TicketProjection } from '../store/tickets.ts';

/** Activities every ticket workflow shares (through `workflows/approval.ts`), whatever its type. */
export function createTicketActivities(deps: { store: Store }) {
  const { store } = deps;
  return {
    /** Projects workflow state onto the ticket document; ordered by `seq`, so retries are harmless. */
    async projectTicket(args: { ticketId: string; seq: number; patch: TicketProjection }): Promise<void> {
      await store.tickets.project(args.ticketId, args.seq, args.patch);
    },
  };
}
export type TicketActivities = ReturnType<typeof createTicketActivities>;
