/** Built-in role types of the platform (seed: 运营管理员, 运维管理员, 域管理员, 虚拟数据中心管理员, 虚拟数据中心用户, 财务). */
export const ROLES = {
  opsAdmin: 'ops-admin',
  maintenanceAdmin: 'maintenance-admin',
  domainAdmin: 'domain-admin',
  vdcAdmin: 'vdc-admin',
  vdcUser: 'vdc-user',
  finance: 'finance',
} as const;
export type Role = (typeof ROLES)[keyof typeof ROLES];

export type Scope = { type: 'platform' } | { type: 'domain'; domainId: string } | { type: 'vdc'; vdcId: string };

/**
 * A user's role within a scope. Users ↔ roles is many-to-many; each binding is scoped. `role` is a
 * built-in role type or a custom role id (`custom:<slug>`).
 */
export interface RoleBinding {
  role: Role | `custom:${string}`;
  scope: Scope;
}

export const isBuiltinRole = (r: string): r is Role => (Object.values(ROLES) as string[]).includes(r);

/** The caller as the API and workflows see it; never carries tokens or secrets. */
export interface Actor {
  sub: string;
  name: string;
}

/** A user as stored (`_id` is its id); store/ names it `UserDoc`. Plain values: mongoose documents never leave store/. */
export interface User {
  _id: string;
  username: string;
  name: string;
  email: string;
  bindings: RoleBinding[];
  lastLoginAt?: Date;
  /** Whether the identity provider said the email is verified at the last sign-in (absent: never said). */
  emailVerified?: boolean;
  /** Client-certificate subject DN bound to the user (second factor when mTLS is required). */
  certSubject?: string | null;
}
