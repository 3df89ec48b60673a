import { WorkloadDeployRequestSchema } from '../workload.ts';
import { defineTicketType } from './kit.ts';

/** The `workload-deploy` ticket type (its body is defined beside the rest of its contract). */
export const WORKLOAD_DEPLOY = defineTicketType({
  type: 'workload-deploy',
  schema: WorkloadDeployRequestSchema,
  previewKind: 'workload',
  cancelWindow: 'until-decided',
  labels: { en: 'Deploy / upgrade workload', 'zh-CN': '部署/升级工作负载' },
});
