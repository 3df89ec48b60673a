import { register } from 'node:module';

/**
 * Element Plus's ESM build does `import AsyncValidator from 'async-validator'`, a CommonJS package that
 * exports `exports.default`. Vitest leaves node_modules to Node, whose ESM-to-CJS interop hands over the
 * whole `exports` object, so `new AsyncValidator()` throws inside el-form-item: every rule hangs in
 * "validating" and `form.validate()` reports the form valid. A resolve hook gives Element Plus the
 * package's ES module build instead, as a bundler does.
 *
 * Import this first in component tests that use el-form. It becomes unnecessary once the `portal` vitest
 * project inlines Element Plus (`test.server.deps.inline: ['element-plus']`).
 */
register('./async-validator-hooks.mjs', import.meta.url);
