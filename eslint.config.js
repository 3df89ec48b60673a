// @ts-check
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/** The repository factories of store/ (and what they are built on): called only by openStore(). */
const storeFactories = `/^(${[
  'connectStore',
  'createModels',
  'createAuditLog',
  ...[
    'apiToken',
    'configItem',
    'delegation',
    'domain',
    'harborRegistry',
    'harborRobotSecret',
    'imageCategory',
    'imageScan',
    'ipList',
    'ledger',
    'ledgerVerification',
    'network',
    'nodeJoin',
    'pendingBinding',
    'pool',
    'priceBook',
    'pullCredential',
    'reportFile',
    'role',
    'space',
    'ticket',
    'user',
    'vdc',
    'volume',
    'workload',
    'workloadOperation',
  ].map((n) => `${n}Store`),
].join('|')})$/`;

export default tseslint.config(
  { ignores: ['node_modules/**', 'portal/dist/**', 'dist/**', '.edgeport/**', 'test-output/**', 'portal/**/*.vue', '**/*.js', '!eslint.config.js'] },
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
    // One store surface: repositories come from openStore() (store/index.ts), each built once over one
    // connection that stays inside store/. Elsewhere: no `.conn`, and no repository factory imported or called
    // (tests, bench and fuzz use store.testing for raw collections).
    files: ['**/*.ts'],
    ignores: ['store/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='conn']",
          message: 'The store connection is private to store/: use a repository on Store (or store.testing in tests).',
        },
        {
          selector: `ImportDeclaration[source.value=/(^|\\x2F)store\\x2F/] ImportSpecifier[imported.name=${storeFactories}]`,
          message: 'Repositories are built once in openStore(): use the one on Store.',
        },
        { selector: `CallExpression[callee.name=${storeFactories}]`, message: 'Repositories are built once in openStore(): use the one on Store.' },
        {
          selector: 'ImportDeclaration[source.value=/store\\x2Fmodels\\.ts$/]',
          message: 'Document types stay in store/: import the domain shapes (Ticket, Vdc, User, CustomRole, LedgerLine) from common/.',
        },
      ],
    },
  },
  {
    // Layers: the API reaches Kubernetes and registries through infra/, never through the worker's activities.
    files: ['api/**/*.ts'],
    ignores: ['api/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/activities/*', '**/activities/**'], message: 'The API does not import activities: use infra/ (clients) or services/.' }] },
      ],
    },
  },
  {
    // Layers: the worker shares services/ with the API but never imports the API itself.
    files: ['worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/api/*', '**/api/**'], message: 'The worker does not import the API: shared code lives in services/ (or common/, infra/).' }],
        },
      ],
    },
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
            {
              group: [
                '@kubernetes/*',
                'mongoose',
                'mongodb',
                'ioredis',
                'bullmq',
                'express',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'pino',
                '../store/*',
                '../api/*',
              ],
              message: 'No I/O in workflow code: use activities.',
            },
            {
              group: ['../activities/*', '../infra/*', '../infra/**'],
              allowTypeImports: true,
              message: 'Import only types from activities and infra (use proxyActivities).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
        { name: 'setInterval', message: 'use a workflow loop with sleep()' },
        { name: 'fetch', message: 'No I/O in workflow code: use activities.' },
        { name: 'process', message: 'No process access in workflow code.' },
      ],
    },
  },
);
