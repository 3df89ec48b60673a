import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuditLog } from '../../common/audit.ts';
import { API_TOKEN_PATTERN, API_TOKEN_PREFIX, type ApiTokenView, type CreateApiToken, type CreatedApiToken } from '../../common/identity.ts';
import { isPermission, type Permission } from '../../common/permissions.ts';
import type { Scope } from '../../common/roles.ts';
import type { ApiTokenRecord, ApiTokenStore } from '../../store/api-tokens.ts';
import type { UserStore } from '../../store/users.ts';
import { holdsAnywhere, scopesHolding } from '../authz.ts';
import { ConflictError, ForbiddenError, InputError, NotFoundError, UnauthorizedError } from '../errors.ts';
import type { Caller } from './caller.ts';

/** What a valid token authenticates as: its user, and the permissions its grants are cut down to. */
export interface ApiTokenAuth {
  id: string;
  permissions: readonly Permission[];
  /** Where the token may act (the creator's scopes at creation); undefined on older tokens. */
  scopes?: readonly Scope[];
}

export interface AuthenticatedToken {
  user: { sub: string; name: string; email: string; username: string };
  token: ApiTokenAuth;
}

export interface ApiTokenServiceDeps {
  tokens: ApiTokenStore;
  users: Pick<UserStore, 'get'>;
  audit: AuditLog;
  now?: () => Date;
  /** Active (unexpired, unrevoked) tokens one user may hold. Default 50. */
  maxActivePerUser?: number;
}

const DAY_MS = 86_400_000;
/** lastUsedAt is written at most this often per token. */
const TOUCH_INTERVAL_MS = 60_000;
/** Characters of the token kept for display: `ep_` plus 6 of its 43 random characters. */
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 6;

/** Hex SHA-256: tokens carry 256 random bits, so a fast hash is enough (nothing to brute-force). */
export const hashApiToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const view = (t: ApiTokenRecord): ApiTokenView => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  permissions: [...t.permissions],
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt.toISOString(),
  lastUsedAt: t.lastUsedAt ? t.lastUsedAt.toISOString() : null,
  revoked: t.revokedAt !== null,
});

/**
 * API tokens for scripts and the CLI. The token is shown once at creation and stored only as its hash;
 * audit entries and logs carry the token id, never the token or its prefix.
 */
export function apiTokenService(deps: ApiTokenServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const maxActive = deps.maxActivePerUser ?? 50;
  const actor = (c: Caller) => ({ sub: c.sub, name: c.name });

  return {
    /**
     * Creates a token whose permissions are a subset of what the caller holds anywhere.
     * @throws ForbiddenError when the caller is itself authenticated by a token (a leaked token must not mint longer-lived ones).
     * @throws InputError naming `permissions[i]` for an unknown or unheld permission.
     * @throws ConflictError when the caller already holds the maximum of active tokens.
     */
    async create(caller: Caller, body: CreateApiToken, ip?: string): Promise<CreatedApiToken> {
      if (caller.tokenId) throw new ForbiddenError('API tokens cannot create API tokens; sign in to create one');
      const permissions = [...new Set(body.permissions)];
      const errors = body.permissions.flatMap((p, i) => {
        if (!isPermission(p)) return [{ field: `permissions[${i}]`, message: `unknown permission ${p}` }];
        if (!holdsAnywhere(caller.grants, p)) return [{ field: `permissions[${i}]`, message: `you do not hold ${p}` }];
        return [];
      });
      if (errors.length > 0) throw new InputError(`invalid request: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
      const at = now();
      if ((await deps.tokens.countActive(caller.sub, at)) >= maxActive)
        throw new ConflictError(`you already hold ${maxActive} active API tokens; revoke one first`);
      const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const record = await deps.tokens.create({
        _id: randomUUID(),
        userSub: caller.sub,
        name: body.name,
        hash: hashApiToken(token),
        prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
        permissions: permissions as Permission[],
        scopes: scopesHolding(caller.grants, permissions as Permission[]),
        createdAt: at,
        expiresAt: new Date(at.getTime() + body.expiresInDays * DAY_MS),
        lastUsedAt: null,
        revokedAt: null,
      });
      await deps.audit.append({
        actor: actor(caller),
        action: 'token.create',
        target: `apitoken:${record.id}`,
        outcome: 'success',
        details: { name: record.name, permissions: record.permissions, expiresAt: record.expiresAt.toISOString() },
        ...(ip ? { ip } : {}),
      });
      return { ...view(record), token };
    },

    async list(caller: Caller): Promise<ApiTokenView[]> {
      return (await deps.tokens.listByUser(caller.sub)).map(view);
    },

    /** Revokes one of the caller's own tokens; revoking twice is harmless. @throws NotFoundError when it is not theirs. */
    async revoke(caller: Caller, id: string, ip?: string): Promise<void> {
      const r = await deps.tokens.revoke(id, caller.sub, now());
      if (r === 'missing') throw new NotFoundError('no such API token');
      if (r === 'already') return;
      await deps.audit.append({ actor: actor(caller), action: 'token.revoke', target: `apitoken:${id}`, outcome: 'success', ...(ip ? { ip } : {}) });
    },

    /**
     * Resolves a presented token to its user and permissions, recording its use (at most once a minute).
     * @throws UnauthorizedError when the token is malformed, unknown, expired or revoked, or its user is gone.
     */
    async authenticate(token: string): Promise<AuthenticatedToken> {
      if (!API_TOKEN_PATTERN.test(token)) throw new UnauthorizedError('invalid API token');
      const record = await deps.tokens.byHash(hashApiToken(token));
      if (!record) throw new UnauthorizedError('invalid API token');
      const at = now();
      if (record.revokedAt) throw new UnauthorizedError('the API token has been revoked');
      if (record.expiresAt.getTime() <= at.getTime()) throw new UnauthorizedError('the API token has expired');
      const user = await deps.users.get(record.userSub);
      if (!user) throw new UnauthorizedError('invalid API token');
      if (!record.lastUsedAt || at.getTime() - record.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
        await deps.tokens.touch(record.id, at, new Date(at.getTime() - TOUCH_INTERVAL_MS));
      }
      return {
        user: { sub: user._id, name: user.name, email: user.email, username: user.username },
        token: { id: record.id, permissions: record.permissions, ...(record.scopes ? { scopes: record.scopes } : {}) },
      };
    },
  };
}
export type ApiTokenService = ReturnType<typeof apiTokenService>;
