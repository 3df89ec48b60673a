import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Permission } from '@common/permissions';
import type { Role } from '@common/roles';
import { ApiError } from '../api/http.ts';
import { getMe, logout as endSession, type Me } from '../api/me.ts';

/** Roles that decide approval steps; only they see the approvals inbox. */
export const APPROVER_ROLES = ['vdc-admin', 'ops-admin'] as const satisfies readonly Role[];

/**
 * The logged-in user. Loaded once at start-up; a 401 from `/api/me` sends the browser to the login
 * page (the http client does that), so `user` is only null while loading or after an error.
 */
export const useSessionStore = defineStore('session', () => {
  const user = ref<Me | null>(null);
  const status = ref<'idle' | 'loading' | 'ready' | 'error'>('idle');
  const error = ref<ApiError | null>(null);
  let pending: Promise<void> | null = null;

  // Built-in role types only; custom roles (`custom:<id>`) are shown by permission, not by type.
  const roles = computed<Role[]>(() => [...new Set((user.value?.bindings ?? []).map((b) => b.role).filter((r): r is Role => !r.startsWith('custom:')))]);
  const canApprove = computed(() => hasAnyRole(APPROVER_ROLES));

  /** Whether the user holds any of these permissions at some scope (the API still checks the scope). */
  function can(...wanted: readonly Permission[]): boolean {
    const held = user.value?.permissions ?? [];
    return wanted.some((p) => held.includes(p));
  }

  function hasAnyRole(wanted: readonly Role[]): boolean {
    return roles.value.some((r) => wanted.includes(r));
  }

  function load(): Promise<void> {
    pending ??= (async () => {
      status.value = 'loading';
      error.value = null;
      try {
        user.value = await getMe();
        status.value = 'ready';
      } catch (e) {
        error.value = e instanceof ApiError ? e : new ApiError({ type: 'about:blank', title: String(e), status: 0 });
        status.value = 'error';
      } finally {
        pending = null;
      }
    })();
    return pending;
  }

  /** Resolves once the user is known (or loading failed); used by route guards. */
  async function ensureLoaded(): Promise<void> {
    if (status.value === 'ready') return;
    await load();
  }

  /** Ends the session by POST, then follows the API's answer (the provider's end-session page); on a failure, the portal's start. */
  async function logout(): Promise<void> {
    const target = await endSession().catch(() => '/');
    window.location.assign(target);
  }

  return { user, status, error, roles, canApprove, can, hasAnyRole, load, ensureLoaded, logout };
});
