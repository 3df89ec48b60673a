import 'vue-router';
import type { Permission } from '@common/permissions';
import type { Role } from '@common/roles';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string;
    /** Side-menu entry to highlight (defaults to the route path). */
    menu?: string;
    /** When set, only users holding one of these roles (any scope) may open the route. */
    roles?: readonly Role[];
    /** When set, only users holding one of these permissions (any scope, from `/api/me`) may open the route. */
    permissions?: readonly Permission[];
  }
}

export {};
