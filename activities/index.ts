import { createQuotaActivities, type QuotaActivityDeps } from './quota-change.ts';

export type ActivityDeps = QuotaActivityDeps;

/** All activities the ticket worker registers, built once over injected clients. */
export function createActivities(deps: ActivityDeps) {
  return { ...createQuotaActivities(deps) };
}
export type Activities = ReturnType<typeof createActivities>;
