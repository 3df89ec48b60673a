/**
 * Node module hooks for component tests (see element-plus-interop.ts): Element Plus's ESM build gets
 * async-validator's ES module build instead of its CommonJS one, as a bundler would give it.
 */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (specifier === 'async-validator' && result.url.endsWith('/async-validator/dist-node/index.js')) {
    return { ...result, url: result.url.replace(/\/dist-node\/index\.js$/, '/dist-web/index.js'), format: 'module' };
  }
  return result;
}
