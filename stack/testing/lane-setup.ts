import { laneEnv } from './lanes.ts';

/**
 * Setup file of the `node` project (files running side by side): puts the file on its worker's test lane
 * (`lanes.ts`) before the file is loaded, so everything a test reads from the environment (the api it
 * starts, the stores it opens, the sign-in URL) is the lane's. Outside a full `stack/cli.ts test` run (no
 * lanes exported) it changes nothing.
 */
const lanes = Number(process.env.EDGEPORT_TEST_API_LANES ?? '0');
if (lanes > 0) {
  // vitest numbers its workers 1..maxWorkers; `stack/cli.ts test` never runs more workers than lanes.
  const lane = Number(process.env.VITEST_POOL_ID ?? '1');
  if (!Number.isInteger(lane) || lane < 1 || lane > lanes)
    throw new Error(`VITEST_POOL_ID ${process.env.VITEST_POOL_ID} is outside the ${lanes} test lanes: run fewer workers`);
  Object.assign(process.env, laneEnv(process.env, lane));
}
