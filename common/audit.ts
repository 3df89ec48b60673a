import type { Actor } from './roles.ts';

/**
 * What happened on the platform outside tickets (logins, role changes, pool registration, tokens, IP
 * lists). Entries are append-only and hash-chained; details never carry secrets.
 */
export interface AuditInput {
  /** null for anonymous events (e.g. a failed login of an unknown user). */
  actor: Actor | null;
  /** Dotted verb, e.g. `auth.login`, `auth.login.failed`, `binding.grant`, `role.create`, `token.create`, `iplist.update`, `pool.register`. */
  action: string;
  /** What it acted on, e.g. `user:u-tenant`, `vdc:demo`, `role:custom:auditor`. */
  target?: string;
  outcome: 'success' | 'failure';
  details?: Record<string, unknown>;
  ip?: string;
}

export interface AuditEntry extends AuditInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

/** The port services write audit entries through (implemented in `store/audit.ts`). */
export interface AuditLog {
  append(entry: AuditInput): Promise<AuditEntry>;
}
