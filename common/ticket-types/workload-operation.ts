import { WorkloadOperationRequestSchema } from '../workload-ops.ts';
import { defineTicketType } from './kit.ts';

/** The `workload-operation` ticket type (its body is defined beside the rest of its contract). */
export const WORKLOAD_OPERATION = defineTicketType({
  type: 'workload-operation',
  schema: WorkloadOperationRequestSchema,
  previewKind: 'workload-operation',
  cancelWindow: 'until-decided',
  labels: { en: 'Workload operation', 'zh-CN': '工作负载操作' },
});
