import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

export const APP_NAMES = ['api', 'worker'] as const;
export type AppName = (typeof APP_NAMES)[number];

export interface AppBuild {
  files: Record<AppName, string>;
  /** npm packages the compiled files import (they load from node_modules at run time). */
  packages: string[];
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for Node builtins. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Compiles `api/main.ts`, `worker/main.ts` and the operator CLI `api/cli.ts` to one JavaScript file each under `<repo>/dist/` (packages stay
 * external: they load from node_modules). Started with plain `node`, a process skips the TypeScript loader,
 * which costs about two thirds of its start-up CPU (measured: api 4.8 → 1.6 CPU-s, worker 3.9 → 1.4). The
 * test runner builds once per run and every spawned api and worker uses the files; production images run
 * them too (`stack/build.ts`). `dist/` sits one level under the repo like `api/` and `worker/`, so paths the
 * code takes from its own location (`../portal/dist`, `../workflows/index.ts`) resolve alike from source and
 * from the build.
 */
export async function buildApps(repoDir: string, outdir = join(repoDir, 'dist')): Promise<AppBuild> {
  const result = await build({
    // The operator CLI (`node dist/cli.mjs audit verify`, `admin grant`, …) ships in the images too.
    entryPoints: { ...Object.fromEntries(APP_NAMES.map((name) => [name, join(repoDir, name, 'main.ts')])), cli: join(repoDir, 'api', 'cli.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return {
    files: Object.fromEntries(APP_NAMES.map((name) => [name, join(outdir, `${name}.mjs`)])) as Record<AppName, string>,
    packages: [...new Set(imports.map(packageOf).filter((p): p is string => p !== undefined))].sort(),
  };
}
