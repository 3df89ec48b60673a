/**
 * Authentication of the API: OpenID Connect login (authorization code + PKCE S256, state and nonce bound to
 * the session) against Keycloak in production or the local provider of `stack/oidc/`, and a server-side
 * session in Redis. The browser only ever holds the opaque `edgeport.sid` cookie; ID and refresh tokens stay
 * in the session record. Once the provider's access token has expired, `requireUser` refreshes the tokens with
 * the stored refresh token; a provider that refuses the refresh ends the session.
 *
 * Mount order in the app: `session`, then `...passport`, then `router`, then `requireUser` in front of
 * protected routes.
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { Strategy, type AuthenticateOptions } from 'openid-client/passport';
import passportLib from 'passport';
import { z } from 'zod';
import type { Problem } from '../../common/problem.ts';
import { failureThrottle, type FailureThrottle } from './failure-throttle.ts';
import { RedisSessionStore } from './session-store.ts';

/** The signed-in user as the session keeps it (and as `req.user` exposes it). Carries no tokens. */
export interface SessionUser {
  /** OIDC subject: the stable key of the user's role bindings. */
  sub: string;
  name: string;
  email: string;
  /** `preferred_username`. */
  username: string;
  /** `email_verified` at sign-in (not kept in the session): only a verified email may match invitations. */
  emailVerified?: boolean;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** Same fields as {@link SessionUser}: passport puts the deserialized session user here. */
    interface User {
      sub: string;
      name: string;
      email: string;
      username: string;
    }
  }
}

/** Server-side only; never logged, never sent to the browser. */
interface SessionTokens {
  idToken?: string;
  refreshToken?: string;
  /** Epoch ms at which the provider's access token expires (from `expires_in`): past it, the next request through `requireUser` refreshes. */
  accessTokenExpiresAt?: number;
}

declare module 'express-session' {
  interface SessionData {
    /** Where `/auth/callback` sends the browser; a same-origin path. */
    returnTo?: string;
    /** Epoch ms of the login: the absolute timeout counts from here. */
    createdAt?: number;
    tokens?: SessionTokens;
  }
}

const MINUTE = 60_000;
/** Refresh this long before the access token actually expires. */
const REFRESH_EARLY_MS = 30_000;
/** How long a finished refresh stays shared with requests still holding the refresh token it replaced. */
const REFRESH_SHARE_MS = MINUTE;

/** Settings of the auth module; validate once at start-up (e.g. with {@link AuthConfigSchema}). */
export interface AuthConfig {
  /** Exact issuer identifier, e.g. `http://127.0.0.1:17240` (127.0.0.1 and localhost are different issuers). */
  issuer: string;
  clientId: string;
  /** Secret. */
  clientSecret: string;
  /** Origin the browser uses for the API, e.g. `http://127.0.0.1:17250`; the callback is `<publicUrl>/auth/callback`. */
  publicUrl: string;
  /** Secret(s) signing the session cookie; the first signs, all verify (rotation). */
  sessionSecret: string | string[];
  /** Session ends after this long without a request. Default 30 min. */
  idleTimeoutMs?: number;
  /** Session ends this long after login, whatever the activity. Default 12 h. */
  absoluteTimeoutMs?: number;
  /** `Secure` cookie; needs HTTPS (behind a proxy, the app must set `trust proxy`). */
  secureCookies: boolean;
}

/** zod schema of {@link AuthConfig}, applying the defaults. */
export const AuthConfigSchema = z.object({
  issuer: z.url(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  publicUrl: z.url().transform((u) => u.replace(/\/+$/, '')),
  sessionSecret: z.union([z.string().min(32), z.array(z.string().min(32)).min(1)]),
  idleTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(30 * MINUTE),
  absoluteTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(12 * 60 * MINUTE),
  secureCookies: z.boolean(),
});

/** Optional pino-compatible logger; it only ever receives error codes and subjects, no tokens. */
export interface AuthLogger {
  warn(obj: object, msg: string): void;
}

export interface AuthDeps {
  config: AuthConfig;
  redis: Redis;
  /** Called after every successful login, before the session is created (e.g. to upsert the user). A rejection fails the login. */
  onLogin?: (user: SessionUser, info: { ip?: string }) => Promise<void>;
  /** Called, not awaited, after a failed login (`code` as in the `authError` redirect); a rejection is only logged. */
  onLoginFailure?: (info: { code: string; ip?: string; username?: string; suppressed?: number }) => Promise<void>;
  /** Limits audited login failures per address (default 10 a minute); see {@link failureThrottle}. */
  failureThrottle?: FailureThrottle;
  /** Called, not awaited, when a signed-in user logs out; a rejection is only logged. */
  onLogout?: (user: SessionUser, info: { ip?: string }) => Promise<void>;
  logger?: AuthLogger;
}

export interface Auth {
  /** express-session on Redis plus the absolute-timeout check. */
  session: RequestHandler;
  /** passport initialize + session (sets `req.user`). */
  passport: RequestHandler[];
  /** `/auth/login`, `/auth/callback`, `POST /auth/logout`. */
  router: Router;
  /**
   * 401 problem+json unless the request carries a valid session. Refreshes the session's tokens once the access
   * token has expired; a refused refresh ends the session (401), a provider that cannot be reached fails the
   * request (the session stays).
   */
  requireUser: RequestHandler;
}

export const SESSION_COOKIE = 'edgeport.sid';
const STRATEGY = 'edgeport-oidc';
const SCOPE = 'openid profile email';

/** Thrown by {@link createAuth} when the issuer's discovery document cannot be fetched or is invalid. */
export class OidcDiscoveryError extends Error {
  constructor(issuer: string, cause: unknown) {
    super(`OpenID discovery failed for ${issuer}`, { cause });
    this.name = 'OidcDiscoveryError';
  }
}

/**
 * The code flow of openid-client's passport Strategy, plus `state` and `nonce` on every request: the
 * Strategy keeps both in the session and checks them on the callback (by default it sends neither when the
 * provider supports PKCE).
 */
class OidcStrategy extends Strategy {
  override authorizationRequestParams<TOptions extends AuthenticateOptions>(req: Request, options: TOptions): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options));
    params.set('state', oidc.randomState());
    params.set('nonce', oidc.randomNonce());
    return params;
  }
}

/**
 * Builds the session, passport and route handlers. Resolves once the issuer's discovery document has been
 * fetched; rejects with {@link OidcDiscoveryError} otherwise (no retry here: the caller decides).
 */
export async function createAuth(deps: AuthDeps): Promise<Auth> {
  const cfg = AuthConfigSchema.parse(deps.config);
  const issuer = new URL(cfg.issuer);
  const callbackUrl = `${cfg.publicUrl}/auth/callback`;
  const postLogoutUrl = `${cfg.publicUrl}/`;
  const publicOrigin = new URL(cfg.publicUrl).origin;

  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(issuer, cfg.clientId, undefined, oidc.ClientSecretBasic(cfg.clientSecret), {
      execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
    });
  } catch (err) {
    throw new OidcDiscoveryError(cfg.issuer, err);
  }
  // The Strategy always sends an S256 code_challenge; a provider that does not advertise S256 may ignore it,
  // leaving authorization codes unbound to this client's login attempt.
  if (!config.serverMetadata().supportsPKCE('S256')) {
    throw new OidcDiscoveryError(cfg.issuer, new Error('the issuer does not advertise PKCE S256 (code_challenge_methods_supported)'));
  }

  // ---- session ----

  const cookie = { httpOnly: true, sameSite: 'lax', secure: cfg.secureCookies, path: '/' } as const;
  const sessionMiddleware = session({
    name: SESSION_COOKIE,
    store: new RedisSessionStore({ redis: deps.redis }),
    secret: cfg.sessionSecret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: { ...cookie, maxAge: cfg.idleTimeoutMs },
  });

  /** Replaces a logged-in session past its absolute lifetime (or without a login time) by a fresh empty one. */
  const enforceAbsoluteTimeout = (req: Request, res: Response, next: NextFunction): void => {
    const s = req.session as (session.Session & Partial<session.SessionData> & { passport?: { user?: unknown } }) | undefined;
    if (!s?.passport?.user) return next();
    if (typeof s.createdAt === 'number' && Date.now() - s.createdAt < cfg.absoluteTimeoutMs) return next();
    res.locals.sessionExpired = true;
    s.regenerate((err) => next(err));
  };

  const sessionHandler: RequestHandler = (req, res, next) => {
    void sessionMiddleware(req, res, (err?: unknown) => {
      if (!err) return enforceAbsoluteTimeout(req, res, next);
      // The session could not be read (Redis down or slow). express-session would destroy it when this
      // response ends (`unset: 'destroy'` and no req.session): one Redis blip would sign everybody out.
      // Without an id there is nothing to destroy; the request fails (503 naming redis) and the session stays.
      (req as { sessionID?: string }).sessionID = undefined;
      next(err);
    });
  };

  // ---- passport ----

  /** Tokens of the login being completed, between the Strategy's verify step and the session write. */
  const pendingTokens = new WeakMap<Request, SessionTokens>();

  const passport = new passportLib.Passport();
  passport.use(
    STRATEGY,
    new OidcStrategy(
      { config, name: STRATEGY, sessionKey: 'oidcAuthorization', callbackURL: callbackUrl, scope: SCOPE, passReqToCallback: true },
      (req, tokens, verified) => {
        resolveUser(config, tokens)
          .then(async (user) => {
            await deps.onLogin?.(user, { ip: req.ip });
            pendingTokens.set(req, sessionTokensOf(tokens));
            verified(null, user);
          })
          .catch((err: unknown) => verified(err));
      },
    ),
  );
  passport.serializeUser((user, done) => done(null, { sub: user.sub, name: user.name, email: user.email, username: user.username }));
  passport.deserializeUser((stored: unknown, done) => {
    const u = stored as Partial<SessionUser> | null;
    // A malformed record logs the session out instead of failing every request.
    if (!u || typeof u.sub !== 'string' || !u.sub) return done(null, false);
    done(null, { sub: u.sub, name: String(u.name ?? ''), email: String(u.email ?? ''), username: String(u.username ?? '') });
  });

  // ---- routes ----

  const router = Router();
  const throttle = deps.failureThrottle ?? failureThrottle();

  router.get('/auth/login', (req, res, next) => {
    req.session.returnTo = safeReturnTo(req.query.returnTo, publicOrigin);
    passport.authenticate(STRATEGY)(req, res, next);
  });

  router.get('/auth/callback', (req, res, next) => {
    const failed = (code: string, err?: unknown): void => {
      deps.logger?.warn({ code, err: describeError(err) }, 'login failed');
      const verdict = throttle.admit(req.ip, Date.now());
      if (!verdict.audit) return res.redirect(303, `/?authError=${encodeURIComponent(code)}`);
      void deps
        .onLoginFailure?.({ code, ip: req.ip, ...(verdict.suppressed > 0 ? { suppressed: verdict.suppressed } : {}) })
        .catch((hookErr: unknown) => deps.logger?.warn({ err: describeError(hookErr) }, 'onLoginFailure failed'));
      res.redirect(303, `/?authError=${encodeURIComponent(code)}`);
    };
    const onResult = (err: unknown, user: Express.User | false | undefined, info: unknown): void => {
      if (err) return isOidcProtocolError(err) ? failed('login_failed', err) : next(err);
      if (!user) return failed(isAccessDenied(req) ? 'access_denied' : 'login_failed', info);
      const returnTo = req.session.returnTo ?? '/';
      const tokens = pendingTokens.get(req) ?? {};
      pendingTokens.delete(req);
      // passport >= 0.6 regenerates the session id here (no fixation); the old session's data is dropped.
      req.logIn(user, (loginErr: unknown) => {
        if (loginErr) return next(loginErr);
        req.session.createdAt = Date.now();
        req.session.tokens = tokens;
        req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect(303, returnTo)));
      });
    };
    passport.authenticate(STRATEGY, onResult)(req, res, next);
  });

  const logout: RequestHandler = (req, res, next) => {
    const tokens = req.session?.tokens;
    const params: Record<string, string> = { post_logout_redirect_uri: postLogoutUrl, client_id: cfg.clientId };
    if (tokens?.idToken) params.id_token_hint = tokens.idToken;
    let target = postLogoutUrl;
    if (config.serverMetadata().end_session_endpoint) target = oidc.buildEndSessionUrl(config, params).href;
    if (tokens?.refreshToken && config.serverMetadata().revocation_endpoint) {
      // Best effort, not awaited: the provider also revokes the grant when its own session ends.
      void oidc
        .tokenRevocation(config, tokens.refreshToken, { token_type_hint: 'refresh_token' })
        .catch((err: unknown) => deps.logger?.warn({ err: describeError(err) }, 'refresh token revocation failed'));
    }
    const done = (): void => {
      res.clearCookie(SESSION_COOKIE, cookie);
      res.set('Cache-Control', 'no-store');
      if (req.accepts(['html', 'json']) === 'json') res.json({ redirectTo: target });
      else res.redirect(303, target);
    };
    if (req.user) void deps.onLogout?.(req.user, { ip: req.ip }).catch((err: unknown) => deps.logger?.warn({ err: describeError(err) }, 'onLogout failed'));
    if (!req.session) return done();
    req.session.destroy((err) => (err ? next(err) : done()));
  };
  // POST only, so the same-origin guard (api/same-origin.ts) covers it: a GET is a top-level navigation another
  // site can cause with the SameSite=Lax cookie attached, and must not end the session.
  router.post('/auth/logout', logout);
  router.all('/auth/logout', (_req, res) => {
    res.set('Allow', 'POST');
    sendProblem(res, { type: 'about:blank', title: 'Method Not Allowed', status: 405, detail: 'log out with POST /auth/logout' });
  });

  // ---- token refresh ----

  /**
   * Refresh grants in flight or just finished, by the refresh token they redeem. Concurrent requests of one
   * session, and requests that loaded the session before the rotated tokens were saved, share one grant:
   * redeeming a rotated refresh token twice makes the provider revoke the whole grant (reuse detection).
   * Per process only; not shared between API instances.
   */
  const refreshes = new Map<string, Promise<SessionTokens>>();

  const refreshTokens = (sub: string, current: SessionTokens & { refreshToken: string }): Promise<SessionTokens> => {
    const key = current.refreshToken;
    let refresh = refreshes.get(key);
    if (!refresh) {
      refresh = oidc.refreshTokenGrant(config, key).then((tokens) => {
        // openid-client validated iss, aud, exp and iat; the subject must still be the session's user.
        const claims = tokens.claims();
        if (claims && claims.sub !== sub) throw new TokenRefreshRefusedError('refreshed ID token names another subject');
        return sessionTokensOf(tokens, current);
      });
      refreshes.set(key, refresh);
      refresh.then(
        () => void setTimeout(() => refreshes.delete(key), REFRESH_SHARE_MS).unref(),
        () => void refreshes.delete(key),
      );
    }
    return refresh;
  };

  const unauthorized = (res: Response): void =>
    sendProblem(res, {
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: res.locals.sessionExpired ? 'The session has expired; sign in again.' : 'Sign in required.',
    });

  const requireUser: RequestHandler = (req, res, next) => {
    const user = req.user;
    if (!user) return unauthorized(res);
    const tokens = req.session.tokens;
    const refreshToken = tokens?.refreshToken;
    const expiresAt = tokens?.accessTokenExpiresAt;
    if (!refreshToken || typeof expiresAt !== 'number' || Date.now() < expiresAt - REFRESH_EARLY_MS) return next();
    refreshTokens(user.sub, { ...tokens, refreshToken }).then(
      (fresh) => {
        req.session.tokens = fresh;
        next();
      },
      (err: unknown) => {
        if (!isRefreshRefusal(err)) return next(err);
        deps.logger?.warn({ code: 'refresh_failed', sub: user.sub, err: describeError(err) }, 'token refresh refused; session ended');
        req.session.regenerate((regenErr) => {
          if (regenErr) return next(regenErr);
          req.user = undefined;
          res.locals.sessionExpired = true;
          unauthorized(res);
        });
      },
    );
  };

  return { session: sessionHandler, passport: [passport.initialize(), passport.session()], router, requireUser };
}

/** Name, email and username from the ID token, or from userinfo when the ID token lacks them. */
async function resolveUser(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): Promise<SessionUser> {
  const idClaims = tokens.claims();
  if (!idClaims) throw new Error('token response carries no ID token');
  let claims: Record<string, unknown> = idClaims;
  const has = (k: string): boolean => typeof claims[k] === 'string' && claims[k] !== '';
  if (!has('name') || !has('email') || !has('preferred_username')) {
    claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...pickStrings(idClaims) };
  }
  const str = (k: string): string | undefined => (typeof claims[k] === 'string' && claims[k] !== '' ? (claims[k] as string) : undefined);
  const email = str('email') ?? '';
  const username = str('preferred_username') ?? (email || idClaims.sub);
  const verified = claims.email_verified ?? idClaims.email_verified;
  return { sub: idClaims.sub, name: str('name') ?? username, email, username, emailVerified: verified === true || verified === 'true' };
}

/** What the session keeps of a token endpoint response; a refresh response may omit the ID or refresh token. */
function sessionTokensOf(tokens: oidc.TokenEndpointResponse, previous?: SessionTokens): SessionTokens {
  return {
    idToken: tokens.id_token ?? previous?.idToken,
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    accessTokenExpiresAt: typeof tokens.expires_in === 'number' ? Date.now() + tokens.expires_in * 1000 : undefined,
  };
}

/** The provider's answer to a refresh was valid but not acceptable (e.g. another subject). */
class TokenRefreshRefusedError extends Error {
  override name = 'TokenRefreshRefusedError';
}

/** Failures that say nothing about the grant: timeouts, transport errors, 5xx, a non-OAuth answer (e.g. a proxy's error page). */
const TRANSIENT_CLIENT_ERRORS = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

/** The provider refused the refresh token (e.g. `invalid_grant`) or answered with tokens that fail validation. */
function isRefreshRefusal(err: unknown): boolean {
  if (err instanceof TokenRefreshRefusedError) return true;
  if (err instanceof oidc.ResponseBodyError) return err.status < 500;
  if (err instanceof oidc.ClientError) return !TRANSIENT_CLIENT_ERRORS.has(String(err.code));
  return false;
}

function pickStrings(o: object): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string' && v !== '')) as Record<string, string>;
}

/**
 * Only a same-origin path survives: absolute URLs, protocol-relative `//host`, backslash tricks and control
 * characters fall back to `/`, as do the `/auth/` routes themselves.
 */
export function safeReturnTo(value: unknown, publicOrigin: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return '/';
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f\u007f]/.test(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, publicOrigin);
  } catch {
    return '/';
  }
  // Checked after URL normalisation too: `/.//evil.com` normalises to the protocol-relative `//evil.com`.
  if (url.origin !== publicOrigin || url.pathname.startsWith('//') || url.pathname.startsWith('/auth/')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

function isAccessDenied(req: Request): boolean {
  return req.query.error === 'access_denied';
}

function isOidcProtocolError(err: unknown): boolean {
  return (
    err instanceof oidc.ClientError ||
    err instanceof oidc.AuthorizationResponseError ||
    err instanceof oidc.ResponseBodyError ||
    err instanceof oidc.WWWAuthenticateChallengeError
  );
}

/**
 * Error name/code/message, the OAuth `error`/`error_description` and the message of the validation failure
 * openid-client wraps (e.g. `unexpected JWT "aud" (audience) claim value`) as `reason`. Never the causes'
 * payloads: openid-client errors can carry response bodies and claims, which may hold tokens.
 */
function describeError(err: unknown): object | undefined {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; error?: unknown; error_description?: unknown };
    const short = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 200) : undefined);
    return {
      name: e.name,
      code: e.code,
      message: e.message,
      reason: e.cause instanceof Error ? short(e.cause.message) : undefined,
      error: short(e.error),
      error_description: short(e.error_description),
    };
  }
  if (err && typeof err === 'object' && 'message' in err) return { message: String((err as { message: unknown }).message) };
  return undefined;
}

function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').json(problem);
}
