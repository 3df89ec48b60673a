import 'vue-router';
import type { Role } from '@common/roles';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string;
    /** Side-menu entry to highlight (defaults to the route path). */
    menu?: string;
    /** When set, only users holding one of these roles (any scope) may open the route. */
    roles?: readonly Role[];
  }
}

export {};
