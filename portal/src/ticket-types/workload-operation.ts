import type { TicketTypeEntry } from './types.ts';

/** A day-2 operation on a workload (requested from the Workloads page, so no form here). */
export const workloadOperation: TicketTypeEntry<'workload-operation'> = {
  type: 'workload-operation',
  summary: (p) => ({ kind: 'text', text: `− ${p.name}` }),
};
