import type { Store } from '../../store/index.ts';
import type { TicketService } from '../services/tickets.ts';
import type { RouteDef } from './define.ts';
import { meRoutes } from './me.ts';
import { ticketRoutes } from './tickets.ts';

export interface RouteDeps {
  store: Store;
  tickets: TicketService;
}

/** Every `/api` route with its declared permission; the route × role test reads this list. */
export function apiRoutes(deps: RouteDeps): RouteDef[] {
  return [...meRoutes(deps.store), ...ticketRoutes(deps.tickets)];
}
