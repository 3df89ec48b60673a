import { z } from 'zod';

const list = z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const WorkerConfigSchema = z.object({
  EDGEPORT_TEMPORAL_ADDRESS: z.string().min(1),
  EDGEPORT_TEMPORAL_NAMESPACE: z.string().default('default'),
  EDGEPORT_MONGO_URL: z.string().url(),
  EDGEPORT_KUBECONFIG: z.string().min(1),
  EDGEPORT_TASK_QUEUE: z.string().optional(),
  EDGEPORT_FAILPOINTS: list,
});

export interface WorkerConfig {
  temporalAddress: string;
  temporalNamespace: string;
  mongoUrl: string;
  kubeconfig: string;
  taskQueue?: string;
  failpoints: string[];
}

/** Parses the worker's settings once at start-up; nothing else in the worker reads `process.env`. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const c = WorkerConfigSchema.parse(env);
  return {
    temporalAddress: c.EDGEPORT_TEMPORAL_ADDRESS,
    temporalNamespace: c.EDGEPORT_TEMPORAL_NAMESPACE,
    mongoUrl: c.EDGEPORT_MONGO_URL,
    kubeconfig: c.EDGEPORT_KUBECONFIG,
    ...(c.EDGEPORT_TASK_QUEUE ? { taskQueue: c.EDGEPORT_TASK_QUEUE } : {}),
    failpoints: c.EDGEPORT_FAILPOINTS,
  };
}
