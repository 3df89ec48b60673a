import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { TICKETS_TASK_QUEUE } from '../common/task-queues.ts';
import { vdcIdSchema } from '../common/tenancy.ts';
import { openStore } from '../store/index.ts';
import { provisionVdcs } from './services/harbor-provisioning.ts';

const USAGE = 'usage: tsx api/cli.ts harbor provision [--vdc <id>]…';

const HarborCliEnvSchema = z.object({
  EDGEPORT_MONGO_URL: z.url(),
  EDGEPORT_TEMPORAL_ADDRESS: z.string().min(1),
  EDGEPORT_TEMPORAL_NAMESPACE: z.string().default('default'),
  EDGEPORT_TASK_QUEUE: z.string().min(1).default(TICKETS_TASK_QUEUE),
});

/**
 * `harbor provision`: runs the Harbor provisioning workflow (projects and robot, see
 * `workflows/harbor-vdc-provision.ts`) for the given VDCs or every VDC, one after the other, and prints one JSON
 * result per VDC (names and ids only, never a secret). The worker must run with `EDGEPORT_REGISTRY_DRIVER=harbor`
 * (with the local registry every run is a no-op). Exit code 0 when all succeeded, 1 otherwise, 2 on usage.
 */
export async function runHarborCli(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { vdc: { type: 'string', multiple: true } } });
  const vdcs = z.array(vdcIdSchema).optional().safeParse(values.vdc);
  if (positionals.length !== 2 || positionals[1] !== 'provision' || !vdcs.success) {
    console.error(USAGE);
    return 2;
  }
  const env = HarborCliEnvSchema.parse(process.env);
  const store = await openStore(env.EDGEPORT_MONGO_URL);
  const connection = await Connection.connect({ address: env.EDGEPORT_TEMPORAL_ADDRESS });
  try {
    const temporal = new Client({ connection, namespace: env.EDGEPORT_TEMPORAL_NAMESPACE });
    const results = await provisionVdcs({ temporal, taskQueue: env.EDGEPORT_TASK_QUEUE, vdcs: store.vdcs }, vdcs.data ?? 'all');
    for (const r of results) console.log(JSON.stringify(r));
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await connection.close();
    await store.close();
  }
}
