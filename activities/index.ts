import { createConfigItemActivities, type ConfigItemActivityDeps } from './config-items.ts';
import { createHarborRegistryActivities } from './harbor-registries.ts';
import { createHarborProvisioningActivities } from './harbor-provisioning.ts';
import { createHarborRobotActivities } from './harbor-robots.ts';
import { createSpaceActivities, type SpaceActivityDeps } from './application-space.ts';
import { createImageActivities, type ImageActivityDeps } from './image-publish.ts';
import { createImageStorageActivities } from './image-storage.ts';
import { createNetworkActivities } from './network.ts';
import { createVolumeActivities } from './volumes.ts';
import { createVdcLifecycleActivities } from './vdc-lifecycle.ts';
import { createPullSecretActivities } from './pull-secrets.ts';
import { createNodeJoinActivities, type NodeJoinActivityDeps } from './node-join.ts';
import { createPoolActivities, type PoolActivityDeps } from './pools.ts';
import { createQuotaActivities, type QuotaActivityDeps } from './quota-change.ts';
import { createQuotaLeaseActivities } from './quota-lease.ts';
import { createWorkloadActivities } from './workload.ts';
import { createWorkloadOperationActivities } from './workload-operation.ts';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger/index.ts';
import { createTicketActivities } from './tickets.ts';

export type ActivityDeps = LedgerActivityDeps &
  QuotaActivityDeps &
  SpaceActivityDeps &
  PoolActivityDeps &
  NodeJoinActivityDeps &
  ImageActivityDeps &
  ConfigItemActivityDeps;

/** All activities the ticket worker registers, built once over injected clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createTicketActivities(deps),
    ...createLedgerActivities(deps),
    ...createHarborRegistryActivities(deps),
    ...createHarborRobotActivities(deps),
    ...createHarborProvisioningActivities(deps),
    ...createQuotaActivities(deps),
    ...createQuotaLeaseActivities(deps),
    ...createSpaceActivities(deps),
    ...createPoolActivities(deps),
    ...createNodeJoinActivities(deps),
    ...createWorkloadActivities(deps),
    ...createWorkloadOperationActivities(deps),
    ...createImageActivities(deps),
    ...createImageStorageActivities(deps),
    ...createConfigItemActivities(deps),
    ...createNetworkActivities(deps),
    ...createVolumeActivities(deps),
    ...createVdcLifecycleActivities(deps),
    ...createPullSecretActivities(deps),
  };
}
export type Activities = ReturnType<typeof createActivities>;
