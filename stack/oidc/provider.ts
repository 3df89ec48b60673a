/**
 * The local OpenID provider (Keycloak in production): npm `oidc-provider` 9 on 127.0.0.1 with one
 * confidential client, authorization code + PKCE S256, RP-initiated logout, refresh tokens, the demo accounts
 * of `demo-users.ts`, and its own server-rendered login page. Started by `stack/servers/oidc.ts`:
 *
 *   tsx stack/oidc/provider.ts
 *
 * Settings come from EDGEPORT_OIDC_* variables read once below. Signing keys are generated on first start and
 * kept as a JWKS in EDGEPORT_OIDC_DATA_DIR, so ID tokens (and the API sessions holding them) stay valid across
 * restarts. Grants, refresh tokens and the provider's own login session live in memory (no adapter): a
 * restart signs everybody out of the provider, not out of the API.
 */
import { createHash, generateKeyPairSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { demoUserBySub, demoUserByUsername, type DemoUser } from './demo-users.ts';

const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().min(1)).min(1));
const urlList = csv.pipe(z.array(z.url()));

const EnvSchema = z.object({
  EDGEPORT_OIDC_PORT: z.coerce.number().int().min(1).max(65535),
  EDGEPORT_OIDC_CLIENT_ID: z.string().min(1),
  /** Secret: never logged. */
  EDGEPORT_OIDC_CLIENT_SECRET: z.string().min(16),
  EDGEPORT_OIDC_REDIRECT_URIS: urlList,
  EDGEPORT_OIDC_POST_LOGOUT_REDIRECT_URIS: urlList,
  /** Secret: cookie signing keys, newest first. */
  EDGEPORT_OIDC_COOKIE_KEYS: csv.pipe(z.array(z.string().min(16))),
  EDGEPORT_OIDC_DATA_DIR: z.string().min(1),
});

const parsed = EnvSchema.safeParse(process.env);
if (!parsed.success) {
  // Only the names of the bad variables: some of them are secrets.
  const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(', ');
  console.error(`oidc provider: invalid or missing settings: ${fields}`);
  process.exit(2);
}
const env = parsed.data;
const HOST = '127.0.0.1';
const issuer = `http://${HOST}:${env.EDGEPORT_OIDC_PORT}`;

// ---- oidc-provider 9 ships no type declarations: the narrow surface used here is typed locally. ----

interface OidcInteraction {
  uid: string;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface OidcGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface OidcProvider {
  callback(): RequestListener;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): OidcGrant; find(id: string): Promise<OidcGrant | undefined> };
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type ProviderCtor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
/** The slice of the Koa context the page renderers touch. */
interface PageCtx {
  host: string;
  type: string;
  body: string;
  oidc: { entities: { IdTokenHint?: unknown } };
}

// Non-literal specifier: keeps TypeScript from demanding declarations the package does not ship.
const { default: Provider } = (await import('oidc-provider' as string)) as { default: ProviderCtor };

// ---- signing keys: generated once, persisted ----

interface Jwks {
  keys: Record<string, unknown>[];
}

function loadOrCreateJwks(dir: string): Jwks {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'jwks.json');
  if (existsSync(file)) {
    const jwks = JSON.parse(readFileSync(file, 'utf8')) as Jwks;
    if (Array.isArray(jwks.keys) && jwks.keys.length > 0) return jwks;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  const jwks: Jwks = { keys: [jwk] };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(jwks), { mode: 0o600 });
  renameSync(tmp, file);
  console.log(`oidc provider: generated a new signing key (${jwk.kid})`);
  return jwks;
}

// ---- accounts ----

function claimsOf(user: DemoUser): Record<string, unknown> {
  return { sub: user.sub, name: user.name, preferred_username: user.username, email: user.email, email_verified: true };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Demo accounts only; compares fixed-length digests so timing does not leak the password length. */
function checkPassword(username: string, password: string): DemoUser | undefined {
  const user = demoUserByUsername(username);
  const ok = timingSafeEqual(digest(user?.password ?? randomUUID()), digest(password));
  return user && ok ? user : undefined;
}

// ---- pages ----

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f5f8;margin:0}main{max-width:340px;margin:64px auto;background:#fff;padding:24px 28px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.3em;font-weight:500}label{display:block;margin:12px 0 4px}input{width:100%;box-sizing:border-box;padding:8px}button{margin-top:16px;width:100%;padding:9px;background:#409eff;color:#fff;border:0;border-radius:4px;font-size:1em;cursor:pointer}.error{color:#c0392b}.note{color:#888;font-size:.85em}a{color:#409eff}`;

function page(title: string, body: string, script = ''): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style>${script ? `<script>${script}</script>` : ''}</head><body><main>${body}</main></body></html>`;
}

function loginPage(uid: string, opts: { username?: string; error?: string } = {}): string {
  const action = `/interaction/${encodeURIComponent(uid)}/login`;
  return page(
    'Sign in · Edgeport',
    `<h1>Sign in to Edgeport</h1>
<form method="post" action="${esc(action)}" autocomplete="off">
${opts.error ? `<p class="error" id="error" role="alert">${esc(opts.error)}</p>` : ''}
<label for="username">Username</label><input id="username" name="username" required autofocus value="${esc(opts.username ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button id="login" type="submit">Sign in</button>
</form>
<p><a id="cancel" href="/interaction/${esc(encodeURIComponent(uid))}/abort">Cancel</a></p>
<p class="note">Local demo identity provider. Production uses Keycloak.</p>`,
  );
}

function sendHtml(res: Response, status: number, html: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      // No form-action: browsers apply it to the redirects that follow the form post (to the client's origin).
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    })
    .send(html);
}

// ---- provider ----

const configuration: Record<string, unknown> = {
  clients: [
    {
      client_id: env.EDGEPORT_OIDC_CLIENT_ID,
      client_secret: env.EDGEPORT_OIDC_CLIENT_SECRET,
      client_name: 'Edgeport portal',
      redirect_uris: env.EDGEPORT_OIDC_REDIRECT_URIS,
      post_logout_redirect_uris: env.EDGEPORT_OIDC_POST_LOGOUT_REDIRECT_URIS,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  responseTypes: ['code'],
  // PKCE on every authorization request; oidc-provider 9 only implements S256.
  pkce: { required: () => true },
  jwks: loadOrCreateJwks(env.EDGEPORT_OIDC_DATA_DIR),
  cookies: { keys: env.EDGEPORT_OIDC_COOKIE_KEYS },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // The ID token carries the scope claims (Keycloak does the same), so the client needs no userinfo call.
  conformIdTokenClaims: false,
  async findAccount(_ctx: unknown, sub: string) {
    const user = demoUserBySub(sub);
    if (!user) return undefined;
    return { accountId: user.sub, claims: async () => claimsOf(user) };
  },
  // Refresh tokens for the confidential client without `offline_access` (as Keycloak does); they die with
  // the provider session (expiresWithSession default) and rotate on every use.
  issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: 5 * 60,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    RefreshToken: 12 * 60 * 60,
    Interaction: 60 * 60,
    Session: 12 * 60 * 60,
    Grant: 12 * 60 * 60,
  },
  interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    revocation: {
      enabled: true,
      // A client revokes only its own tokens (the only client is confidential).
      allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId,
    },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // With a valid id_token_hint the client asked for this logout: sign out without asking (Keycloak
      // behaves the same); without one, ask.
      async logoutSource(ctx: PageCtx, form: string) {
        const hinted = ctx.oidc.entities.IdTokenHint !== undefined;
        ctx.type = 'html';
        ctx.body = page(
          'Sign out · Edgeport',
          `<h1>Sign out of ${esc(ctx.host)}?</h1>${form}
<button id="logout" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>`,
          hinted ? `document.addEventListener('DOMContentLoaded',function(){document.getElementById('logout').click()})` : '',
        );
      },
      async postLogoutSuccessSource(ctx: PageCtx) {
        ctx.type = 'html';
        ctx.body = page('Signed out · Edgeport', '<h1>You are signed out.</h1>');
      },
    },
  },
  async renderError(ctx: PageCtx, out: Record<string, string>) {
    ctx.type = 'html';
    ctx.body = page(
      'Error · Edgeport',
      `<h1>Sign-in error</h1>${Object.entries(out)
        .map(([k, v]) => `<p><strong>${esc(k)}</strong>: ${esc(String(v))}</p>`)
        .join('')}`,
    );
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, err) => console.error('oidc provider: server error', err));

// ---- interaction routes (login form, automatic consent for the first-party client) ----

const app = express();
app.disable('x-powered-by');
app.set('trust proxy', false);

app.get('/interaction/:uid', async (req: Request, res: Response) => {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    sendHtml(res, 200, loginPage(details.uid));
    return;
  }
  if (details.prompt.name === 'consent') {
    await grantConsent(req, res, details);
    return;
  }
  sendHtml(res, 400, page('Error · Edgeport', `<h1>Unsupported prompt</h1>`));
});

app.post('/interaction/:uid/login', express.urlencoded({ extended: false, limit: '8kb' }), async (req: Request, res: Response) => {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') {
    sendHtml(res, 400, page('Error · Edgeport', '<h1>This sign-in request is no longer waiting for a password.</h1>'));
    return;
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  const username = typeof body.username === 'string' ? body.username.trim() : '';
  const password = typeof body.password === 'string' ? body.password : '';
  const user = checkPassword(username, password);
  if (!user) {
    sendHtml(res, 401, loginPage(details.uid, { username, error: 'Invalid username or password.' }));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
});

app.get('/interaction/:uid/abort', async (req: Request, res: Response) => {
  await provider.interactionFinished(
    req,
    res,
    { error: 'access_denied', error_description: 'End-User aborted interaction' },
    { mergeWithLastSubmission: false },
  );
});

/** The only client is first-party: grant exactly what the prompt says is missing, without asking. */
async function grantConsent(req: Request, res: Response, details: OidcInteraction): Promise<void> {
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (!accountId || typeof clientId !== 'string' || clientId !== env.EDGEPORT_OIDC_CLIENT_ID) {
    sendHtml(res, 400, page('Error · Edgeport', '<h1>Consent is not available for this client.</h1>'));
    return;
  }
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
  const d = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

app.use(provider.callback());

// Errors of the interaction routes (expired or unknown interaction, missing cookie): a page, not a stack trace.
app.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
  const name = err instanceof Error ? err.name : 'Error';
  if (name !== 'SessionNotFound') console.error('oidc provider: interaction error', err);
  sendHtml(
    res,
    400,
    page(
      'Error · Edgeport',
      `<h1>This sign-in request has expired or is invalid.</h1><p>${esc(name)}</p><p><a href="${esc(env.EDGEPORT_OIDC_POST_LOGOUT_REDIRECT_URIS[0] ?? '/')}">Start again</a></p>`,
    ),
  );
});

const server = app.listen(env.EDGEPORT_OIDC_PORT, HOST, () => {
  console.log(`oidc provider: issuer ${issuer} (client ${env.EDGEPORT_OIDC_CLIENT_ID})`);
});
server.on('error', (err) => {
  console.error('oidc provider: cannot listen', err);
  process.exit(1);
});

function shutdown(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
