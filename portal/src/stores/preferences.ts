import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { i18n, initialLocale, rememberLocale, type Locale } from '../locales/index.ts';

const THEME_KEY = 'edgeport.theme';

function initialDark(): boolean {
  const stored = globalThis.localStorage?.getItem(THEME_KEY);
  if (stored === 'dark' || stored === 'light') return stored === 'dark';
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
}

/**
 * Language and theme, remembered in localStorage. Dark mode is Element Plus's own: the `dark` class on
 * `<html>` switches its CSS variables (`element-plus/theme-chalk/dark/css-vars.css`).
 */
export const usePreferencesStore = defineStore('preferences', () => {
  const locale = ref<Locale>(initialLocale());
  const dark = ref(initialDark());

  watch(
    locale,
    (value) => {
      i18n.global.locale.value = value;
      rememberLocale(value);
      document.documentElement.lang = value;
    },
    { immediate: true },
  );

  watch(
    dark,
    (value) => {
      document.documentElement.classList.toggle('dark', value);
      globalThis.localStorage?.setItem(THEME_KEY, value ? 'dark' : 'light');
    },
    { immediate: true },
  );

  return { locale, dark };
});
