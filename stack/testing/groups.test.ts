import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exclusiveReason, EXCLUSIVE_TEST_FILES, NODE_TEST_DIRS } from './groups.ts';

const repoDir = new URL('../..', import.meta.url).pathname;

/** Every `*.test.ts` under the node test folders, relative to the repo. */
function nodeTestFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (e.name === 'node_modules' ? [] : walk(join(dir, e.name))) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
    );
  return NODE_TEST_DIRS.flatMap((d) => walk(join(repoDir, d))).map((f) => relative(repoDir, f));
}

describe('test groups', () => {
  it("every node test file that needs the stack's own API port runs exclusively", async () => {
    const unlisted: string[] = [];
    const files = nodeTestFiles();
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      if (EXCLUSIVE_TEST_FILES.includes(file)) continue;
      const text = readFileSync(`${repoDir}${file}`, 'utf8');
      const reason = exclusiveReason(text);
      if (reason) unlisted.push(`${file}: ${reason}`);
    }
    expect(unlisted).toEqual([]);
  });

  it('lists only files that exist', () => {
    expect(EXCLUSIVE_TEST_FILES.filter((f) => !existsSync(join(repoDir, f)))).toEqual([]);
  });
});
