import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/**
 * The portal is a static SPA served by the API in production (same origin, cookie session).
 * In development the dev server proxies `/api` and `/auth` to the running API so the session
 * cookie stays first-party.
 */
const apiTarget = process.env.EDGEPORT_PUBLIC_URL ?? 'http://127.0.0.1:17250';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: {
      '@common': fileURLToPath(new URL('../common', import.meta.url)),
    },
  },
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/auth': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            {
              name: 'element-plus',
              test: /node_modules[\\/](element-plus|@element-plus|@floating-ui|@ctrl|@vueuse|async-validator|dayjs|lodash-unified|lodash-es|memoize-one|normalize-wheel-es)[\\/]/,
              priority: 20,
            },
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 10 },
          ],
        },
      },
    },
  },
});
