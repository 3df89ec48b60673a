/**
 * Which node test files may run at the same time as others. Files of the `node` project run in parallel,
 * each vitest worker on a test lane of its own (`lanes.ts`: API port, task queue, MongoDB and Redis database).
 * A file is **exclusive** (project `node-exclusive`, one at a time, on the stack's own API port and main
 * database, beside the lanes) when it needs what only the stack's own API port has:
 * - the registry's token service and push notifications, which the registry's configuration points at the
 *   stack's API port (pushing with Edgeport credentials, scan on push),
 * - the port itself or the stack's port layout,
 * - quiet: no api running beside it (one test expects pushed images to stay unscanned).
 * `groups.test.ts` fails when a file does one of these without being listed here.
 */
export const EXCLUSIVE_TEST_FILES: readonly string[] = [
  // Expects images it pushes to stay unscanned until it scans them: a running api scans on push notifications.
  'infra/registry/image-gate.test.ts',
  'api/auth/auth.test.ts',
  'api/auth/oidc-negative.test.ts',
  'api/image-catalog.test.ts',
  'api/images.test.ts',
  'api/pull-credentials.test.ts',
  'api/registry.test.ts',
  'api/workload-edge.test.ts',
];

/** Why a file's source makes it exclusive (see above), or undefined; checked by `groups.test.ts`. */
export function exclusiveReason(source: string): string | undefined {
  if (/\bports\.api\b|EDGEPORT_PORT_BASE/.test(source)) return "uses the stack's API port or port layout";
  if (/--creds/.test(source)) return "signs in to the registry with Edgeport credentials (token service on the stack's API port)";
  const pushes = /\bpushImage\(|\bskopeo\b/.test(source);
  const api = /\btestHttp\(|\bstartTestApi\(|startApp\([^)]*'api'/.test(source);
  if (pushes && api) return "pushes images and asks an api about them (push notifications go to the stack's API port)";
  return undefined;
}

/** The folders of node test files (the `node` and `node-exclusive` projects together). */
export const NODE_TEST_DIRS: readonly string[] = [
  'common',
  'store',
  'infra',
  'services',
  'api',
  'workflows',
  'activities',
  'policies',
  'worker',
  'stack',
  'deploy',
  'bench',
];

/** The vitest include glob over {@link NODE_TEST_DIRS}. */
export const NODE_TEST_GLOB = `{${NODE_TEST_DIRS.join(',')}}/**/*.test.ts`;
