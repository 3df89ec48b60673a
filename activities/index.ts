import { createSpaceActivities, type SpaceActivityDeps } from './application-space.ts';
import { createImageActivities, type ImageActivityDeps } from './image-publish.ts';
import { createNodeJoinActivities, type NodeJoinActivityDeps } from './node-join.ts';
import { createPoolActivities, type PoolActivityDeps } from './pools.ts';
import { createQuotaActivities, type QuotaActivityDeps } from './quota-change.ts';
import { createQuotaLeaseActivities } from './quota-lease.ts';
import { createWorkloadActivities } from './workload.ts';

export type ActivityDeps = QuotaActivityDeps & SpaceActivityDeps & PoolActivityDeps & NodeJoinActivityDeps & ImageActivityDeps;

/** All activities the ticket worker registers, built once over injected clients. */
export function createActivities(deps: ActivityDeps) {
  return { ...createQuotaActivities(deps), ...createQuotaLeaseActivities(deps), ...createSpaceActivities(deps), ...createPoolActivities(deps), ...createNodeJoinActivities(deps), ...createWorkloadActivities(deps), ...createImageActivities(deps) };
}
export type Activities = ReturnType<typeof createActivities>;
