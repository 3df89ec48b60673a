import NewWorkloadRollback from '../views/tickets/requests/NewWorkloadRollback.vue';
import WorkloadDryRunPreview from './previews/WorkloadDryRunPreview.vue';
import type { TicketTypeEntry } from './types.ts';

/** A workload back to an earlier revision (default: the previous one). */
export const workloadRollback: TicketTypeEntry<'workload-rollback'> = {
  type: 'workload-rollback',
  form: NewWorkloadRollback,
  summary: (p) => ({ kind: 'text', text: `${p.name} → ${p.revision !== undefined ? `revision ${p.revision}` : 'previous revision'}` }),
  preview: WorkloadDryRunPreview,
};
