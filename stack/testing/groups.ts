/**
 * Which node test files may run at the same time as others. The test stack's servers (MongoDB, Temporal,
 * the clusters, the registry) are shared by every file; most files isolate themselves by unique VDC,
 * namespace and task-queue names and can run side by side. A file is **exclusive** when it holds something
 * only one file can hold at a time:
 * - the stack's API port (the OIDC callback points there, so an api a test signs in to listens on it),
 * - the demo users' role bindings or the price book in force (it changes and restores them),
 * - a whole-database verdict (`ledger verify` over every line) that another file's writes would change.
 * `stack/cli.ts test` runs the exclusive files one at a time (then the browser tests, which need the API
 * port too) while the shared ones run in parallel next to them. `groups.test.ts` fails when a file does one
 * of the things above without being listed here.
 */
export const EXCLUSIVE_TEST_FILES: readonly string[] = [
  'activities/registry/driver-config.test.ts',
  'api/approval-engine.test.ts',
  'api/audit.test.ts',
  'api/auth/auth.test.ts',
  'api/auth/oidc-negative.test.ts',
  'api/billing-scenario.test.ts',
  'api/billing.test.ts',
  'api/config-center.test.ts',
  'api/delegations.test.ts',
  'api/fuzz.test.ts',
  'api/harbor-registries.test.ts',
  'api/image-catalog.test.ts',
  'api/images.test.ts',
  'api/ip-lists.test.ts',
  'api/mtls.test.ts',
  'api/node-join.test.ts',
  'api/pool-reads.test.ts',
  'api/pools.test.ts',
  'api/pull-credentials.test.ts',
  'api/quota-lease.test.ts',
  'api/quota-slice.test.ts',
  'api/registry.test.ts',
  'api/route-permissions.test.ts',
  'api/security-groups.test.ts',
  'api/spaces.test.ts',
  'api/tenancy.test.ts',
  'api/tokens.test.ts',
  'api/user-ref.test.ts',
  'api/users-by-name.test.ts',
  'api/volumes.test.ts',
  'api/workload-edge.test.ts',
  'api/workload-ops.test.ts',
  'api/workload-slice.test.ts',
  'bench/invariants.test.ts',
  'deploy/compose.test.ts',
  'workflows/image-storage-metering.test.ts',
];

/** Source patterns that make a file exclusive (see above); checked by `groups.test.ts`. */
export const EXCLUSIVE_MARKERS: readonly RegExp[] = [
  /EDGEPORT_PUBLIC_URL/,
  /\btestHttp\(/,
  /\bstartTestApi\(/,
  /startApp\([^)]*'api'/,
  /\bports\.api\b/,
  /\bdemoUserByUsername\(/,
  /\bpriceBookStore\b|\bPRICEBOOK_COLLECTION\b|\bpriceBooks\b/,
  /\bverifyLedger\(/,
];

/** The folders of node test files (the `node` and `node-exclusive` projects together). */
export const NODE_TEST_DIRS: readonly string[] = ['common', 'store', 'api', 'workflows', 'activities', 'policies', 'worker', 'stack', 'deploy', 'bench'];

/** The vitest include glob over {@link NODE_TEST_DIRS}. */
export const NODE_TEST_GLOB = `{${NODE_TEST_DIRS.join(',')}}/**/*.test.ts`;
