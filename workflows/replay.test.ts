import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { testReplayOptions } from '../stack/testing/workflow-bundle.ts';

const dir = join(import.meta.dirname, '__fixtures__');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories with the current workflow code', () => {
  // One replay worker for every fixture (loading the workflow bundle is the slow part); each fixture is its own test.
  const errors = new Map<string, unknown>();
  beforeAll(async () => {
    const histories = fixtures.map((file) => ({ workflowId: file, history: JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
    for await (const r of Worker.runReplayHistories(testReplayOptions(), histories)) errors.set(r.workflowId, r.error);
  }, 300_000);

  it('has fixtures', () => expect(fixtures.length).toBeGreaterThan(0));
  it.each(fixtures)('%s replays without nondeterminism', (file) => {
    expect(errors.has(file), `${file} was not replayed`).toBe(true);
    expect(errors.get(file)).toBeUndefined();
  });
});
