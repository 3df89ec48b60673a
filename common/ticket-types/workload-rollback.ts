import { WorkloadRollbackRequestSchema } from '../workload.ts';
import { defineTicketType } from './kit.ts';

/** The `workload-rollback` ticket type (its body is defined beside the rest of its contract). */
export const WORKLOAD_ROLLBACK = defineTicketType({
  type: 'workload-rollback',
  schema: WorkloadRollbackRequestSchema,
  previewKind: 'workload',
  cancelWindow: 'until-decided',
  labels: { en: 'Roll back workload', 'zh-CN': '回滚工作负载' },
});
