// @ts-check
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'portal/dist/**', '.edgeport/**', 'test-output/**', 'portal/**/*.vue', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Temporal workflow sandbox: deterministic code only. No Node builtins, no I/O clients, and activities
    // are imported as types (proxyActivities), never as values.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node builtins are not allowed in workflow code (Temporal sandbox).' })),
          patterns: [
            { group: ['@kubernetes/*', 'mongoose', 'mongodb', 'ioredis', 'bullmq', 'express', '@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'pino', '../store/*', '../api/*'], message: 'No I/O in workflow code: use activities.' },
            { group: ['../activities/*'], allowTypeImports: true, message: 'Import only types from activities (use proxyActivities).' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' }, { name: 'setInterval', message: 'use a workflow loop with sleep()' }, { name: 'fetch', message: 'No I/O in workflow code: use activities.' }, { name: 'process', message: 'No process access in workflow code.' }],
    },
  },
);
