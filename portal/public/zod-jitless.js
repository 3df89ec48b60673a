// Loaded as a classic script before the portal's modules: zod's JIT probes `new Function`, which the portal's
// Content-Security-Policy (script-src 'self', no 'unsafe-eval') reports as a violation even though zod catches
// the error. zod reads this global config when it loads, so it must be set before any schema chunk runs
// (a module import could be evaluated after the shared schema chunk).
globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig || {}, { jitless: true });
