import { ROLES, type RoleBinding } from '../../common/roles.ts';

/**
 * A demo account of the local OpenID provider. DEMO ONLY: the passwords are public and live in the repo;
 * production accounts come from Keycloak.
 */
export interface DemoUser {
  /** Stable subject identifier (the OIDC `sub`), also the key of the user's role bindings. */
  sub: string;
  username: string;
  name: string;
  email: string;
  /** Demo-only password, published on purpose. */
  password: string;
}

export const DEMO_USERS = [
  { sub: 'u-tenant', username: 'tenant', name: 'Tina Tenant', email: 'tenant@edgeport.local', password: 'demo-tenant-pass' },
  { sub: 'u-vdcadmin', username: 'vdcadmin', name: 'Victor VDC-Admin', email: 'vdcadmin@edgeport.local', password: 'demo-vdcadmin-pass' },
  { sub: 'u-opsadmin', username: 'opsadmin', name: 'Olga Ops', email: 'opsadmin@edgeport.local', password: 'demo-opsadmin-pass' },
  { sub: 'u-finance', username: 'finance', name: 'Fiona Finance', email: 'finance@edgeport.local', password: 'demo-finance-pass' },
  { sub: 'u-other', username: 'other', name: 'Oscar Other', email: 'other@edgeport.local', password: 'demo-other-pass' },
] as const satisfies readonly DemoUser[];

export type DemoUsername = (typeof DEMO_USERS)[number]['username'];

/**
 * Role bindings of the demo accounts, keyed by `sub`. The application's database is the source of truth;
 * the seed copies these into it. The provider itself never issues roles.
 */
export const bindings: Readonly<Record<string, readonly RoleBinding[]>> = {
  'u-tenant': [{ role: ROLES.vdcUser, scope: { type: 'vdc', vdcId: 'demo' } }],
  'u-vdcadmin': [{ role: ROLES.vdcAdmin, scope: { type: 'vdc', vdcId: 'demo' } }],
  'u-opsadmin': [{ role: ROLES.opsAdmin, scope: { type: 'platform' } }],
  'u-finance': [{ role: ROLES.finance, scope: { type: 'platform' } }],
  'u-other': [{ role: ROLES.vdcAdmin, scope: { type: 'vdc', vdcId: 'other' } }],
};

export function demoUserByUsername(username: string): DemoUser | undefined {
  return DEMO_USERS.find((u) => u.username === username);
}

export function demoUserBySub(sub: string): DemoUser | undefined {
  return DEMO_USERS.find((u) => u.sub === sub);
}
