import NewWorkloadDeploy from '../views/tickets/requests/NewWorkloadDeploy.vue';
import WorkloadDryRunPreview from './previews/WorkloadDryRunPreview.vue';
import type { TicketTypeEntry } from './types.ts';

/** A new workload or a new revision of one. */
export const workloadDeploy: TicketTypeEntry<'workload-deploy'> = {
  type: 'workload-deploy',
  form: NewWorkloadDeploy,
  summary: (p) => ({ kind: 'text', text: `${p.workload.kind} ${p.workload.name}: ${p.workload.containers.map((c) => c.image).join(', ')}` }),
  preview: WorkloadDryRunPreview,
};
