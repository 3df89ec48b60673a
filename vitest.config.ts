import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

/**
 * One runner for the whole repo. `node` covers api, workflows, activities, infra, ledger, services, policies and the stack
 * (integration tests reach the real local servers whose addresses `stack/cli.ts test` exports);
 * `portal` runs component tests in happy-dom; `e2e` drives Debian Chromium against the running stack.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['{common,store,infra,ledger,services,api,workflows,activities,policies,worker,stack,deploy,bench}/**/*.test.ts'],
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
