import type { Permission } from '@common/permissions';
import type { RoleBinding } from '@common/roles';
import { http } from './http.ts';

/** The logged-in user as `GET /api/me` returns it. */
export interface Me {
  sub: string;
  name: string;
  email: string;
  username: string;
  bindings: RoleBinding[];
  /** Every permission the user holds at some scope (sorted); the menu shows admin views by these. */
  permissions: Permission[];
}

/** Quiet: the layout shows its own error state when this fails. */
export function getMe(): Promise<Me> {
  return http.get<Me>('/api/me', { quiet: true });
}

/**
 * `POST /auth/logout` (POST only, so another site cannot log the user out) ends the session and answers where
 * the browser goes next: the provider's end-session page, which comes back to the portal.
 */
export async function logout(): Promise<string> {
  const { redirectTo } = await http.post<{ redirectTo: string }>('/auth/logout', undefined, { quiet: true });
  return redirectTo;
}
