import { openSync, closeSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './proc.ts';

/**
 * An exclusive lock held by this process (a file with our pid, created with O_EXCL). A stale lock of a
 * dead process is taken over. Used so two `npm test` runs on one machine queue instead of wiping each
 * other's test stack.
 */
export async function withLock<T>(file: string, what: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      closeSync(openSync(file, 'wx'));
      writeFileSync(file, String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSync(file, 'utf8').trim() || 0);
      if (holder && !isAlive(holder)) {
        rmSync(file, { force: true });
        continue;
      }
      if (!announced) console.error(`waiting for ${what} (held by pid ${holder || '?'})`);
      announced = true;
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
