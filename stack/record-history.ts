/**
 * Saves a finished ticket workflow's history as a replay fixture:
 *   npm run stack -- env --show-secrets > .env.dev && (set -a; . ./.env.dev; tsx stack/record-history.ts <ticketId> <name>)
 * Replay tests (`replay.test.ts`) run every fixture against the current workflow code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

const [ticketId, name] = process.argv.slice(2);
if (!ticketId || !name) throw new Error('usage: record-history.ts <ticketId> <fixture-name>');
const connection = await Connection.connect({ address: process.env.EDGEPORT_TEMPORAL_ADDRESS ?? '127.0.0.1:17200' });
try {
  const history = await new Client({ connection }).workflow.getHandle(ticketId).fetchHistory();
  const file = join(import.meta.dirname, '..', 'workflows', '__fixtures__', `${name}.json`);
  writeFileSync(file, historyToJSON(history));
  console.log(`wrote ${file} (${history.events?.length} events)`);
} finally {
  await connection.close();
}
