import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';
import { EXCLUSIVE_TEST_FILES, NODE_TEST_GLOB } from './stack/testing/groups.ts';

/**
 * One runner for the whole repo. `node` and `node-exclusive` cover api, workflows, activities, policies and
 * the stack (integration tests reach the real local servers whose addresses `stack/cli.ts test` exports):
 * `node` files run in parallel with each other, `node-exclusive` ones one at a time (they hold the stack's
 * API port or shared state, `stack/testing/groups.ts`); `portal` runs component tests in happy-dom; `e2e`
 * drives Debian Chromium against the running stack.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: [NODE_TEST_GLOB],
          exclude: [...EXCLUSIVE_TEST_FILES, '**/node_modules/**'],
          // Each worker's files get their own API port and task queue (a test lane).
          setupFiles: ['stack/testing/lane-setup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'node-exclusive',
          include: [...EXCLUSIVE_TEST_FILES],
          fileParallelism: false,
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [vue()],
        // Portal code value-imports the shared zod schemas through the same alias as portal/vite.config.ts.
        resolve: { alias: { '@common': fileURLToPath(new URL('./common', import.meta.url)) } },
        test: {
          name: 'portal',
          include: ['portal/src/**/*.test.ts'],
          environment: 'happy-dom',
          // Mounting a view takes well under a second alone; beside a full run's servers on two CPUs, several.
          testTimeout: 30_000,
          // Inlined so Element Plus gets async-validator's ESM build (the CJS one never settles rules in Node).
          server: { deps: { inline: ['element-plus'] } },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['portal/e2e/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
