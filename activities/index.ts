import { createSpaceActivities, type SpaceActivityDeps } from './application-space.ts';
import { createPoolActivities, type PoolActivityDeps } from './pools.ts';
import { createQuotaActivities, type QuotaActivityDeps } from './quota-change.ts';

export type ActivityDeps = QuotaActivityDeps & SpaceActivityDeps & PoolActivityDeps;

/** All activities the ticket worker registers, built once over injected clients. */
export function createActivities(deps: ActivityDeps) {
  return { ...createQuotaActivities(deps), ...createSpaceActivities(deps), ...createPoolActivities(deps) };
}
export type Activities = ReturnType<typeof createActivities>;
