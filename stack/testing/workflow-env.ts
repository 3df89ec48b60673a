import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { createTicketWorker, WORKFLOWS_PATH, type TicketWorker } from '../../worker/create-worker.ts';
import { stackEnv, uniqueName } from './env.ts';
import { testWorkerOptions } from './workflow-bundle.ts';

/** A running ticket worker on its own task queue in the shared time-skipping environment. */
export interface QueueWorker {
  taskQueue: string;
  tw: TicketWorker;
}

export interface TimeSkippingWorkers<K extends string> {
  env: TestWorkflowEnvironment;
  workers: Record<K, QueueWorker>;
}

/**
 * Registers beforeAll/afterAll that start the time-skipping test server (by existing path) and one real
 * ticket worker per entry (its own task queue, optional failpoints), and tear them down afterwards.
 * The returned object is filled in by beforeAll.
 */
export function useTimeSkippingWorkers<K extends string>(specs: Record<K, { queuePrefix: string; failpoints?: string[] }>): TimeSkippingWorkers<K> {
  const ctx = { workers: {} } as TimeSkippingWorkers<K>;
  const runs: Promise<void>[] = [];
  beforeAll(async () => {
    ctx.env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: stackEnv('EDGEPORT_TEMPORAL_TEST_SERVER') } },
    });
    const entries = Object.entries(specs) as [K, { queuePrefix: string; failpoints?: string[] }][];
    // The run's prebuilt bundle, else bundled once for all workers of the file (webpack is the slow part).
    const prebuilt = testWorkerOptions().workflowBundle;
    const workflowBundle = prebuilt ?? (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH }));
    await Promise.all(
      entries.map(async ([key, spec]) => {
        const taskQueue = uniqueName(spec.queuePrefix);
        const tw = await createTicketWorker({
          temporalAddress: 'unused',
          temporalNamespace: ctx.env.namespace ?? 'default',
          mongoUrl: stackEnv('EDGEPORT_MONGO_URL'),
          credentials: { key: stackEnv('EDGEPORT_CREDENTIALS_KEY'), previousKeys: [] },
          taskQueue,
          connection: ctx.env.nativeConnection,
          client: ctx.env.client,
          ...(spec.failpoints ? { failpoints: spec.failpoints } : {}),
          worker: { workflowBundle },
        });
        ctx.workers[key] = { taskQueue, tw };
        runs.push(tw.worker.run());
      }),
    );
  });
  afterAll(async () => {
    const workers = Object.values(ctx.workers) as QueueWorker[];
    for (const w of workers) w.tw.worker.shutdown();
    await Promise.all(runs);
    for (const w of workers) await w.tw.shutdown();
    await ctx.env?.teardown();
  });
  return ctx;
}
