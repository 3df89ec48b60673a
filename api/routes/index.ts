import type { AuditStore } from '../../store/audit.ts';
import type { Store } from '../../store/index.ts';
import { accessService } from '../services/access.ts';
import type { ApiTokenService } from '../services/api-tokens.ts';
import type { CertSubjectService } from '../services/cert-subjects.ts';
import type { IpListService } from '../services/ip-lists.ts';
import type { PoolService } from '../services/pools.ts';
import { tenancyService } from '../services/tenancy.ts';
import type { TicketService } from '../services/tickets.ts';
import { accessRoutes } from './access.ts';
import { apiTokenRoutes } from './api-tokens.ts';
import { auditRoutes } from './audit.ts';
import { certSubjectRoutes } from './cert-subjects.ts';
import type { RouteDef } from './define.ts';
import { ipListRoutes } from './ip-lists.ts';
import { meRoutes } from './me.ts';
import { poolRoutes } from './pools.ts';
import { tenancyRoutes } from './tenancy.ts';
import { ticketRoutes } from './tickets.ts';

export interface RouteDeps {
  store: Store;
  tickets: TicketService;
  audit: AuditStore;
  apiTokens: ApiTokenService;
  ipLists: IpListService;
  certSubjects: CertSubjectService;
  pools: PoolService;
}

/** Every `/api` route with its declared permission; the route × role test reads this list. */
export function apiRoutes(deps: RouteDeps): RouteDef[] {
  const access = accessService({ store: deps.store, audit: deps.audit });
  const tenancy = tenancyService({ store: deps.store, audit: deps.audit, access });
  return [...meRoutes(deps.store), ...ticketRoutes(deps.tickets), ...auditRoutes(deps.audit), ...apiTokenRoutes(deps.apiTokens), ...ipListRoutes(deps.ipLists), ...certSubjectRoutes(deps.certSubjects), ...tenancyRoutes(tenancy), ...accessRoutes(access), ...poolRoutes(deps.pools)];
}
