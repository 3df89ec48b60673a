import { placementNamespace } from '../../../common/tenancy.ts';
import { spaceNamespace } from '../../../common/tickets.ts';
import type { TicketDecision } from '../../../policies/types.ts';
import { WORKLOAD_POLICY_VERSION, workloadPoolProblem } from '../../../policies/workload.ts';
import type { TicketContextReaders, TicketExtraContext, TicketPolicyContext } from './kit.ts';

/**
 * The namespace a workload ticket targets: its space's, the VDC's namespace on `pool` when that is a further
 * pool (`vdc-<id>-<pool>`), or the VDC's default one. Whether `pool` is the VDC's is the policy's to decide.
 */
export const workloadNamespace = (vdc: { id: string; namespace?: string; pool?: string }, space: string | undefined, pool?: string): string => {
  if (space) return spaceNamespace(vdc.id, space);
  if (pool !== undefined && vdc.pool !== undefined && pool !== vdc.pool) return placementNamespace(vdc.id, pool, false);
  return vdc.namespace ?? `vdc-${vdc.id}`;
};

export const poolsOf = (vdc: TicketPolicyContext<unknown>['vdc']): { pools?: readonly string[]; spacePools: Record<string, string> } => ({
  ...(vdc.pools ? { pools: vdc.pools } : {}),
  spacePools: Object.fromEntries(vdc.spaces.filter((s) => s.pool !== undefined).map((s) => [s.name, s.pool as string])),
});

/** The pool refusal of a rollback or operation ticket naming a pool that is not the VDC's (field `pool`). */
export const poolDenial = (pool: string | undefined, space: string | undefined, vdc: TicketPolicyContext<unknown>['vdc']): TicketDecision | undefined => {
  const problem = workloadPoolProblem(pool, space, poolsOf(vdc));
  return problem ? { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: problem, field: 'pool' } : undefined;
};

/** Context of every workload ticket: the VDC's recorded workloads and standalone volumes (storage rules). */
export const workloadContext = async (readers: TicketContextReaders): Promise<TicketExtraContext> => ({
  workloads: await readers.workloads(),
  volumes: await readers.volumes(),
});
