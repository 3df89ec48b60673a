/**
 * Test helper: a real but deliberately faulty OpenID provider (authorization code + PKCE S256, refresh tokens
 * with rotation) on 127.0.0.1, to drive the relying party of `../index.ts` into the failures a well-behaved
 * provider never produces. Each fault in {@link Fault} breaks one thing; everything else follows the specs, and
 * the issuer itself enforces what a provider must (PKCE, single-use codes, refresh token rotation), reporting
 * each violation it detects in {@link RogueIssuer.reports}.
 *
 * Keys and tokens are made with `node:crypto` (RS256); nothing is persisted.
 */
import { createHash, createSign, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';

/** One misbehaviour of the issuer; `none` is a correct provider. */
export type Fault =
  | 'none'
  /** `/authorize` redirects back with a state the RP never issued. */
  | 'wrong-state'
  /** `/authorize` redirects back without `state`. */
  | 'missing-state'
  /** ID token for another client. */
  | 'wrong-aud'
  /** ID token from another issuer. */
  | 'wrong-iss'
  /** ID token expired an hour ago. */
  | 'expired'
  /** ID token with a nonce the RP did not send. */
  | 'wrong-nonce'
  /** ID token without `nonce`. */
  | 'missing-nonce'
  /** The ID token of the previous successful login again (valid signature, `aud` and `exp`; its nonce is that login's). */
  | 'replay-id-token'
  /** `/token` refuses every refresh (`invalid_grant`), as after the provider session ended. */
  | 'refresh-refused'
  /** The refreshed ID token names another subject. */
  | 'refresh-other-sub'
  /** `/token` answers refresh requests with a 503 HTML page (provider down behind a proxy). */
  | 'refresh-unavailable';

export interface RogueUser {
  sub: string;
  name: string;
  email: string;
  preferred_username: string;
}

export interface RogueClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface TokenRequestRecord {
  grantType: string;
  clientAuthenticated: boolean;
  code?: string;
  codeVerifier?: string;
  refreshToken?: string;
  redirectUri?: string;
  /** S256(code_verifier) matched the code's challenge. */
  pkceVerified?: boolean;
}

export interface RogueIssuerOptions {
  /** Advertise `code_challenge_methods_supported: ["S256"]` in discovery. Default true. */
  advertisePkce?: boolean;
  /** `expires_in` of the access tokens, seconds. Default 300. */
  accessTokenTtlS?: number;
}

interface CodeGrant {
  nonce?: string;
  codeChallenge?: string;
  redirectUri: string;
  used: boolean;
}

export interface RogueIssuer {
  /** Issuer identifier and base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The current misbehaviour; tests set it per scenario. */
  fault: Fault;
  /** Claims of the user every login signs in. */
  user: RogueUser;
  /** Query parameters of every `/authorize` request, in order. */
  readonly authorizeRequests: Record<string, string>[];
  /** Every `/token` request, in order. */
  readonly tokenRequests: TokenRequestRecord[];
  /** Protocol violations the issuer detected and refused (e.g. `authorization request without PKCE S256 code_challenge`). */
  readonly reports: string[];
  /** The only registered client; set before the RP logs in. */
  register(client: RogueClient): void;
  /** Clears the records (not the codes and refresh tokens already issued). */
  resetRecords(): void;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const s256 = (v: string): string => createHash('sha256').update(v, 'ascii').digest('base64url');

function signJwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export async function startRogueIssuer(opts: RogueIssuerOptions = {}): Promise<RogueIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const ttl = opts.accessTokenTtlS ?? 300;

  const codes = new Map<string, CodeGrant>();
  /** Refresh token → whether it has been redeemed (rotation: each one works once). */
  const refreshTokens = new Map<string, { used: boolean }>();
  const accessTokens = new Set<string>();
  let client: RogueClient | undefined;
  let lastLoginIdToken: string | undefined;

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false }));

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const issuer: RogueIssuer = {
    url,
    fault: 'none',
    user: { sub: 'rogue-user-1', name: 'Rita Rogue', email: 'rita@example.test', preferred_username: 'rita' },
    authorizeRequests: [],
    tokenRequests: [],
    reports: [],
    register(c) {
      client = c;
    },
    resetRecords() {
      issuer.authorizeRequests.length = 0;
      issuer.tokenRequests.length = 0;
      issuer.reports.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const idToken = (nonce: string | undefined, subject = issuer.user.sub): string => {
    const now = Math.floor(Date.now() / 1000);
    const f = issuer.fault;
    const claims: Record<string, unknown> = {
      iss: f === 'wrong-iss' ? 'https://evil.example' : url,
      aud: f === 'wrong-aud' ? 'some-other-client' : client!.clientId,
      sub: subject,
      iat: f === 'expired' ? now - 7200 : now,
      exp: f === 'expired' ? now - 3600 : now + 3600,
      auth_time: now,
      name: issuer.user.name,
      email: issuer.user.email,
      preferred_username: issuer.user.preferred_username,
    };
    if (f === 'wrong-nonce') claims.nonce = b64url(randomBytes(32));
    else if (f !== 'missing-nonce' && nonce !== undefined) claims.nonce = nonce;
    return signJwt(privateKey, kid, claims);
  };

  const tokenError = (res: Response, status: number, error: string, description: string): void => {
    res.status(status).set('Cache-Control', 'no-store').json({ error, error_description: description });
  };

  const newTokens = (): { access_token: string; refresh_token: string } => {
    const access_token = b64url(randomBytes(32));
    const refresh_token = b64url(randomBytes(32));
    accessTokens.add(access_token);
    refreshTokens.set(refresh_token, { used: false });
    return { access_token, refresh_token };
  };

  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({
      issuer: url,
      authorization_endpoint: `${url}/authorize`,
      token_endpoint: `${url}/token`,
      userinfo_endpoint: `${url}/userinfo`,
      jwks_uri: `${url}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      scopes_supported: ['openid', 'profile', 'email'],
      authorization_response_iss_parameter_supported: true,
      ...(opts.advertisePkce === false ? {} : { code_challenge_methods_supported: ['S256'] }),
    });
  });

  app.get('/jwks', (_req, res) => void res.json({ keys: [publicJwk] }));

  app.get('/authorize', (req: Request, res: Response) => {
    const q = Object.fromEntries(Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === 'string'));
    issuer.authorizeRequests.push(q);
    if (!client || q.client_id !== client.clientId || q.redirect_uri !== client.redirectUri) {
      issuer.reports.push('authorization request from an unknown client or redirect_uri');
      res.status(400).type('text').send('unknown client or redirect_uri');
      return;
    }
    const back = new URL(client.redirectUri);
    const reply = (params: Record<string, string | undefined>): void => {
      for (const [k, v] of Object.entries(params)) if (v !== undefined) back.searchParams.set(k, v);
      back.searchParams.set('iss', url);
      res.redirect(302, back.href);
    };
    if (!q.code_challenge || q.code_challenge_method !== 'S256') {
      issuer.reports.push('authorization request without PKCE S256 code_challenge');
      reply({ error: 'invalid_request', error_description: 'PKCE code_challenge with code_challenge_method=S256 is required', state: q.state });
      return;
    }
    const code = b64url(randomBytes(32));
    codes.set(code, { nonce: q.nonce, codeChallenge: q.code_challenge, redirectUri: q.redirect_uri, used: false });
    const state = issuer.fault === 'wrong-state' ? `forged-${b64url(randomBytes(16))}` : issuer.fault === 'missing-state' ? undefined : q.state;
    reply({ code, state });
  });

  app.post('/token', (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const basic = /^Basic (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const [id, secret] = basic
      ? Buffer.from(basic, 'base64')
          .toString('utf8')
          .split(':')
          .map((s) => decodeURIComponent(s))
      : [];
    const rec: TokenRequestRecord = {
      grantType: str('grant_type') ?? '',
      clientAuthenticated: !!client && id === client.clientId && secret !== undefined && sameSecret(secret, client.clientSecret),
      code: str('code'),
      codeVerifier: str('code_verifier'),
      refreshToken: str('refresh_token'),
      redirectUri: str('redirect_uri'),
    };
    issuer.tokenRequests.push(rec);
    if (!rec.clientAuthenticated) return tokenError(res, 401, 'invalid_client', 'client authentication failed');

    if (rec.grantType === 'authorization_code') {
      const grant = rec.code ? codes.get(rec.code) : undefined;
      if (!grant) return tokenError(res, 400, 'invalid_grant', 'unknown authorization code');
      if (grant.used) {
        issuer.reports.push('authorization code replayed');
        return tokenError(res, 400, 'invalid_grant', 'authorization code already used');
      }
      grant.used = true;
      if (rec.redirectUri !== grant.redirectUri) return tokenError(res, 400, 'invalid_grant', 'redirect_uri mismatch');
      if (!rec.codeVerifier) {
        issuer.reports.push('token request without code_verifier');
        return tokenError(res, 400, 'invalid_grant', 'code_verifier required (PKCE)');
      }
      rec.pkceVerified = s256(rec.codeVerifier) === grant.codeChallenge;
      if (!rec.pkceVerified) {
        issuer.reports.push('PKCE verification failed');
        return tokenError(res, 400, 'invalid_grant', 'PKCE verification failed');
      }
      const id_token = issuer.fault === 'replay-id-token' && lastLoginIdToken ? lastLoginIdToken : idToken(grant.nonce);
      if (issuer.fault === 'none') lastLoginIdToken = id_token;
      res.set('Cache-Control', 'no-store').json({ ...newTokens(), token_type: 'Bearer', expires_in: ttl, id_token, scope: 'openid profile email' });
      return;
    }

    if (rec.grantType === 'refresh_token') {
      if (issuer.fault === 'refresh-unavailable') {
        res.status(503).type('html').send('<h1>503 Service Unavailable</h1>');
        return;
      }
      if (issuer.fault === 'refresh-refused') return tokenError(res, 400, 'invalid_grant', 'refresh token expired or revoked');
      const stored = rec.refreshToken ? refreshTokens.get(rec.refreshToken) : undefined;
      if (!stored) return tokenError(res, 400, 'invalid_grant', 'unknown refresh token');
      if (stored.used) {
        issuer.reports.push('refresh token replayed');
        return tokenError(res, 400, 'invalid_grant', 'refresh token already used');
      }
      stored.used = true;
      const sub = issuer.fault === 'refresh-other-sub' ? 'someone-else' : issuer.user.sub;
      res
        .set('Cache-Control', 'no-store')
        .json({ ...newTokens(), token_type: 'Bearer', expires_in: ttl, id_token: idToken(undefined, sub), scope: 'openid profile email' });
      return;
    }

    tokenError(res, 400, 'unsupported_grant_type', `grant_type ${rec.grantType || '(none)'} is not supported`);
  });

  app.get('/userinfo', (req: Request, res: Response) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !accessTokens.has(token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').end();
      return;
    }
    res.json({ ...issuer.user });
  });

  return issuer;
}
