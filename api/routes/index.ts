import type { AuditStore } from '../../store/audit.ts';
import type { Store } from '../../store/index.ts';
import { accessService } from '../services/access.ts';
import type { ApiTokenService } from '../services/api-tokens.ts';
import type { CertSubjectService } from '../services/cert-subjects.ts';
import type { IpListService } from '../services/ip-lists.ts';
import type { PoolService } from '../services/pools.ts';
import type { RegistryService } from '../services/registry.ts';
import type { ImageService } from '../services/images.ts';
import { tenancyService } from '../services/tenancy.ts';
import { userDirectory } from '../services/user-directory.ts';
import type { VdcRegistryProvisioning } from '../services/harbor-provisioning.ts';
import type { VdcLifecycle } from '../services/vdc-lifecycle.ts';
import type { TicketService } from '../services/tickets.ts';
import { accessRoutes } from './access.ts';
import { apiTokenRoutes } from './api-tokens.ts';
import { auditRoutes } from './audit.ts';
import type { BillingService } from '../services/billing.ts';
import { billingRoutes } from './billing.ts';
import type { ReportJobService } from '../services/report-jobs.ts';
import { reportJobRoutes } from './report-jobs.ts';
import { certSubjectRoutes } from './cert-subjects.ts';
import type { RouteDef } from './define.ts';
import { ipListRoutes } from './ip-lists.ts';
import { meRoutes } from './me.ts';
import { poolRoutes } from './pools.ts';
import { registryRoutes } from './registry.ts';
import { imageRoutes } from './images.ts';
import { tenancyRoutes } from './tenancy.ts';
import { ticketRoutes } from './tickets.ts';
import { delegationRoutes } from './delegations.ts';
import { delegatedTicketRoutes } from './delegated-tickets.ts';
import type { DelegationService } from '../services/delegations.ts';
import type { CredentialCipher } from '../../store/credentials.ts';
import { nodeJoinService } from '../services/node-join.ts';
import { nodeJoinRoutes } from './node-join.ts';
import type { ConfigItemService } from '../services/config-items.ts';
import { configItemRoutes } from './config-items.ts';
import type { NetworkService } from '../services/network.ts';
import { networkRoutes } from './network.ts';
import type { VolumeService } from '../services/volumes.ts';
import { volumeRoutes } from './volumes.ts';

export interface RouteDeps {
  store: Store;
  /** With Harbor as the registry: starts the provisioning of new VDCs' projects and robots. */
  registryProvisioning?: VdcRegistryProvisioning;
  /** Provisions, re-syncs (member changes) and deletes VDCs through their lifecycle workflow. */
  vdcLifecycle?: VdcLifecycle;
  tickets: TicketService;
  /** The one delegation service; the ticket service holds the same instance for delegated approvals. */
  delegations: DelegationService;
  audit: AuditStore;
  apiTokens: ApiTokenService;
  ipLists: IpListService;
  certSubjects: CertSubjectService;
  pools: PoolService;
  /** Present when a registry is configured (EDGEPORT_REGISTRY_*). */
  registry?: RegistryService;
  /** Image detail, scans and deletion; present with the registry. */
  images?: ImageService;
  billing: BillingService;
  /** Background report jobs (BullMQ); without them the job routes are not mounted. */
  reportJobs?: ReportJobService;
  /** Opens sealed join commands (node-join tickets); without it the join-command route is not mounted. */
  nodeJoinCipher?: CredentialCipher;
  /** The config center (ConfigMaps and Secrets of VDC namespaces). */
  configItems?: ConfigItemService;
  /** Security groups and space network defaults (applied through short workflows). */
  network?: NetworkService;
  /** Standalone volumes (applied through short workflows). */
  volumes?: VolumeService;
}

/** Every `/api` route with its declared permission; the route × role test reads this list. */
export function apiRoutes(deps: RouteDeps): RouteDef[] {
  const lifecycle = deps.vdcLifecycle ? { vdcLifecycle: deps.vdcLifecycle } : {};
  const access = accessService({ store: deps.store, audit: deps.audit, ...lifecycle });
  const tenancy = tenancyService({
    store: deps.store,
    audit: deps.audit,
    access,
    ...(deps.registryProvisioning ? { registryProvisioning: deps.registryProvisioning } : {}),
    ...lifecycle,
  });
  return [
    ...meRoutes(deps.store),
    ...ticketRoutes(deps.tickets),
    ...delegatedTicketRoutes(deps.tickets),
    ...auditRoutes(deps.audit),
    ...apiTokenRoutes(deps.apiTokens),
    ...ipListRoutes(deps.ipLists),
    ...certSubjectRoutes(deps.certSubjects),
    ...tenancyRoutes(tenancy, userDirectory({ store: deps.store, audit: deps.audit })),
    ...accessRoutes(access),
    ...poolRoutes(deps.pools),
    ...(deps.registry ? registryRoutes(deps.registry) : []),
    ...(deps.images ? imageRoutes(deps.images) : []),
    ...billingRoutes(deps.billing),
    ...(deps.reportJobs ? reportJobRoutes(deps.reportJobs, deps.billing) : []),
    ...delegationRoutes(deps.delegations),
    ...(deps.nodeJoinCipher ? nodeJoinRoutes(nodeJoinService({ store: deps.store, cipher: deps.nodeJoinCipher, audit: deps.audit }), deps.store) : []),
    ...(deps.network ? networkRoutes(deps.network) : []),
    ...(deps.volumes ? volumeRoutes(deps.volumes) : []),
    ...(deps.configItems ? configItemRoutes(deps.configItems) : []),
  ];
}
