/**
 * Prebuilds the workflow bundle once: `tsx worker/bundle.ts <out.js>`. A worker started with
 * EDGEPORT_WORKFLOW_BUNDLE=<out.js> loads it instead of running webpack at start-up (seconds instead of
 * minutes on a busy machine), e.g. in a container image built per release, or the reliability bench
 * restarting its worker many times. The bundle must come from the same code as the worker.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './create-worker.ts';

/** Bundles the workflows and writes the code to `out`; returns its size in bytes. */
export async function writeWorkflowBundle(out: string): Promise<number> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  writeFileSync(out, code);
  return Buffer.byteLength(code);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: tsx worker/bundle.ts <out.js>');
  const bytes = await writeWorkflowBundle(out);
  console.log(`wrote ${out} (${(bytes / 1024).toFixed(0)} KiB)`);
}
