import type { ReplayWorkerOptions, WorkerOptions } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/create-worker.ts';

/**
 * Where test workers take their workflow code from. `stack/cli.ts test` bundles the workflows once per run
 * (webpack is the slow part of starting a worker) and exports the file as EDGEPORT_WORKFLOW_BUNDLE; spawned
 * workers read it through their config, in-process workers and replays through these options. Run outside
 * the harness (no variable), each worker bundles the workflows itself, as before.
 */
function bundlePath(): string | undefined {
  return process.env.EDGEPORT_WORKFLOW_BUNDLE || undefined;
}

/** `worker` options for `createTicketWorker` in tests: the run's prebuilt bundle, when there is one. */
export function testWorkerOptions(): Partial<WorkerOptions> {
  const codePath = bundlePath();
  return codePath ? { workflowBundle: { codePath } } : {};
}

/** Options for `Worker.runReplayHistory/Histories`: the run's prebuilt bundle, or the workflow sources. */
export function testReplayOptions(): ReplayWorkerOptions {
  const codePath = bundlePath();
  return codePath ? { workflowBundle: { codePath } } : { workflowsPath: WORKFLOWS_PATH };
}
