/**
 * Setup file of the `node` project (files running side by side): moves the file onto its worker's test lane
 * before the file is loaded. Everything a test reads from the environment then points at the lane: the api it
 * starts listens on the lane's port (a redirect URI at the test OpenID provider, so users can sign in), and
 * its api and worker use the lane's task queue, so workflows started by one file never run on another file's
 * worker (which may be armed with failpoints or killed on purpose). Outside `stack/cli.ts test` (no lanes
 * exported) it changes nothing.
 */
const lanes = Number(process.env.EDGEPORT_TEST_API_LANES ?? '0');
const apiPort = Number(process.env.EDGEPORT_API_PORT ?? '0');
if (lanes > 0 && apiPort > 0) {
  // vitest numbers its workers 1..maxWorkers; `stack/cli.ts test` never runs more workers than lanes.
  const pool = Number(process.env.VITEST_POOL_ID ?? '1');
  if (!Number.isInteger(pool) || pool < 1 || pool > lanes) throw new Error(`VITEST_POOL_ID ${process.env.VITEST_POOL_ID} is outside the ${lanes} test lanes: run fewer workers`);
  const port = apiPort + pool;
  process.env.EDGEPORT_API_PORT = String(port);
  process.env.EDGEPORT_PUBLIC_URL = `http://127.0.0.1:${port}`;
  process.env.EDGEPORT_TASK_QUEUE = `edgeport-tickets-lane-${pool}`;
  process.env.EDGEPORT_TEST_LANE = String(pool);
}
