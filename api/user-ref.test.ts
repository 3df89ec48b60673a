import { describe, expect, it } from 'vitest';
import { AddMemberSchema, UserRefSchema } from '../common/tenancy.ts';
import { loadApiConfig } from './config.ts';

/** Pure checks of how users are named (no servers): the user reference and `EDGEPORT_BOOTSTRAP_ADMINS`. */
const minimalEnv = {
  EDGEPORT_PUBLIC_URL: 'http://127.0.0.1:17250',
  EDGEPORT_TEMPORAL_ADDRESS: '127.0.0.1:7233',
  EDGEPORT_MONGO_URL: 'mongodb://127.0.0.1:27017/edgeport',
  EDGEPORT_REDIS_URL: 'redis://127.0.0.1:6379/0',
  EDGEPORT_OIDC_ISSUER: 'http://127.0.0.1:17240',
  EDGEPORT_OIDC_CLIENT_ID: 'edgeport-portal',
  EDGEPORT_OIDC_CLIENT_SECRET: 'secret',
  EDGEPORT_SESSION_SECRET: 's'.repeat(32),
  EDGEPORT_CREDENTIALS_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('naming users', () => {
  it('accepts usernames and emails, refuses spaces, control characters and malformed emails', () => {
    for (const ok of ['tenant', 'Tenant.Name_1', 'a@b.co', ' padded ']) expect(UserRefSchema.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['', 'a b', 'a\u0000b', 'x@', '@x', 'a@b@c', 'x'.repeat(255)]) expect(UserRefSchema.safeParse(bad).success, bad).toBe(false);
    expect(AddMemberSchema.safeParse({ user: 'tenant', roles: [] }).success).toBe(false);
  });

  it('parses EDGEPORT_BOOTSTRAP_ADMINS once, trimmed and lower-cased; empty by default; refuses junk', () => {
    expect(loadApiConfig(minimalEnv).bootstrapAdmins).toEqual([]);
    expect(loadApiConfig({ ...minimalEnv, EDGEPORT_BOOTSTRAP_ADMINS: ' Admin-Bootstrap , Ops@Example.ORG,,' }).bootstrapAdmins).toEqual([
      'admin-bootstrap',
      'ops@example.org',
    ]);
    expect(() => loadApiConfig({ ...minimalEnv, EDGEPORT_BOOTSTRAP_ADMINS: 'a@b@c' })).toThrow(/username or an email/);
  });
});
