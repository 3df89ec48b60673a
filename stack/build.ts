import { join } from 'node:path';
import { writeWorkflowBundle } from '../worker/bundle.ts';
import { buildApps } from './lib/app-build.ts';

/**
 * `npm run build`: what a production image runs, under `dist/` — the api and the worker compiled to
 * JavaScript (`api.mjs`, `worker.mjs`, packages loaded from node_modules) and the prebuilt workflow bundle
 * (`workflow-bundle.js`, for EDGEPORT_WORKFLOW_BUNDLE). `deploy/Dockerfile` runs it in its build stage.
 */
const repoDir = join(import.meta.dirname, '..');
const { files } = await buildApps(repoDir);
const bundle = join(repoDir, 'dist', 'workflow-bundle.js');
const bytes = await writeWorkflowBundle(bundle);
console.log(`built ${[...Object.values(files), join(repoDir, 'dist', 'cli.mjs')].join(', ')}, ${bundle} (${(bytes / 1024).toFixed(0)} KiB)`);
