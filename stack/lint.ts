import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackConfig } from './lib/config.ts';

/**
 * `npm run lint`: ESLint, Prettier, tsc and vue-tsc, in that order, stopping at the first failure.
 * Prettier, tsc and vue-tsc keep their caches under the cache folder (one per checkout path), and each is
 * sound: Prettier keys files by content, tsc's incremental build info re-checks every file whose own text
 * or whose dependencies changed. ESLint runs without a cache on purpose: its cache is keyed by a file's
 * own text, so a type-aware rule (no-floating-promises) would miss a caller that a change elsewhere broke.
 */
const cfg = loadStackConfig('test');
const cache = join(cfg.cacheDir, 'lint', createHash('sha256').update(cfg.repoDir).digest('hex').slice(0, 16));
mkdirSync(cache, { recursive: true });
const bin = (name: string): string => join(cfg.repoDir, 'node_modules', '.bin', name);

const steps: [string, string[]][] = [
  ['eslint', ['.']],
  [
    'prettier',
    ['--check', '--log-level', 'warn', '--cache', '--cache-strategy', 'content', '--cache-location', join(cache, 'prettier'), '**/*.{ts,vue,js,json,yaml,yml}'],
  ],
  ['tsc', ['-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', join(cache, 'tsc.tsbuildinfo')]],
  ['vue-tsc', ['-p', 'portal/tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', join(cache, 'vue-tsc.tsbuildinfo')]],
];
for (const [name, args] of steps) {
  const r = spawnSync(bin(name), args, { cwd: cfg.repoDir, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`lint: ${name} failed`);
    process.exit(r.status ?? 1);
  }
}
