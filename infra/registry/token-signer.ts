import { createPrivateKey, createSign, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';

/** Lifetime of issued tokens; clients fetch a new one per operation anyway. */
export const REGISTRY_TOKEN_TTL_S = 300;

/** One entry of a token's `access` claim (Docker registry token specification). */
export interface RegistryAccess {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Signs registry bearer tokens: RS256 JWT with the certificate in `x5c` (how distribution 2.8 finds the key).
 * Used by the API's token service and by the worker's local registry driver (which signs its own tokens).
 */
export function registryTokenSigner(cfg: { keyPem: string; certPem: string; issuer: string; service: string; now?: () => number }) {
  const key: KeyObject = createPrivateKey(cfg.keyPem);
  const certDer = new X509Certificate(cfg.certPem).raw.toString('base64');
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return {
    sign(subject: string, access: RegistryAccess[]): { token: string; expiresIn: number; issuedAt: string } {
      const now = Math.floor((cfg.now?.() ?? Date.now()) / 1000);
      const header = b64({ typ: 'JWT', alg: 'RS256', x5c: [certDer] });
      const claims = b64({
        iss: cfg.issuer,
        sub: subject,
        aud: cfg.service,
        iat: now,
        nbf: now - 10,
        exp: now + REGISTRY_TOKEN_TTL_S,
        jti: randomUUID(),
        access,
      });
      const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key).toString('base64url');
      return { token: `${header}.${claims}.${signature}`, expiresIn: REGISTRY_TOKEN_TTL_S, issuedAt: new Date(now * 1000).toISOString() };
    },
  };
}

/** Parses one `scope` parameter: `repository:<name>:<actions>` (the name may not contain `:` here). */
export function parseScope(scope: string): RegistryAccess | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return null;
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (!name || actions.length === 0) return null;
  return { type: scope.slice(0, first), name, actions };
}
