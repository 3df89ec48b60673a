import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { describe, expect, it } from 'vitest';
import { ledgerLinesFromHistory } from './index.ts';

const histories = join(import.meta.dirname, '../../workflows/__fixtures__');
/** Lines the per-fact loops derived from each recorded history before they became one pipeline. */
const expected = JSON.parse(readFileSync(join(import.meta.dirname, '__fixtures__/fixture-lines.json'), 'utf8')) as Record<string, unknown[]>;
const fixtures = readdirSync(histories).filter((f) => f.endsWith('.json'));

describe('ledger lines from recorded histories', () => {
  it.each(fixtures)('%s yields the lines it always did', (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(histories, file), 'utf8')));
    const lines = JSON.parse(JSON.stringify(ledgerLinesFromHistory(file, history))) as unknown[];
    expect(lines).toEqual(expected[file] ?? []);
  });

  it('covers every kind of fact', () => {
    const facts = new Set(Object.values(expected).flatMap((ls) => ls.map((l) => (l as { fact: string }).fact)));
    expect([...facts].sort()).toEqual(['image.storage', 'node.joined', 'quota.allocation.changed', 'quota.lease', 'volume.storage', 'workload.requests']);
  });
});
