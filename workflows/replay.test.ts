import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { testReplayOptions } from '../stack/testing/workflow-bundle.ts';

const dir = join(import.meta.dirname, '__fixtures__');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories with the current workflow code', () => {
  it('has fixtures', () => expect(fixtures.length).toBeGreaterThan(0));
  it.each(fixtures)('%s replays without nondeterminism', async (file) => {
    const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const results = Worker.runReplayHistories(testReplayOptions(), [{ workflowId: file, history }]);
    for await (const r of results) expect(r.error).toBeUndefined();
  });
});
