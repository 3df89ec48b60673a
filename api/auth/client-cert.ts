import type { Request, RequestHandler } from 'express';
import type { UserStore } from '../../store/users.ts';
import { UnauthorizedError } from '../errors.ts';
import type { AddressSet } from '../ip-match.ts';
import { apiTokenOf } from './bearer.ts';

/** How the API learns about client certificates verified by the TLS-terminating proxy in front of it. */
export interface ClientCertConfig {
  /** `required`: a session of a user with a bound subject must present that certificate. `off`: bound subjects are ignored. */
  mode: 'off' | 'required';
  /** Lower-case header carrying the verified subject DN (nginx `$ssl_client_s_dn`). */
  subjectHeader: string;
  /** Lower-case header carrying the verification result; only `SUCCESS` counts (nginx `$ssl_client_verify`). */
  verifyHeader: string;
}

/**
 * The certificate subject a trusted proxy vouches for, or null. The headers count only when the TCP peer
 * itself is a trusted proxy (a client talking to the API directly could send anything) and the proxy
 * reports a successful verification.
 */
export function presentedSubject(req: Request, cfg: ClientCertConfig, trustedProxies: AddressSet): string | null {
  if (!trustedProxies.has(req.socket.remoteAddress)) return null;
  if (req.get(cfg.verifyHeader) !== 'SUCCESS') return null;
  const subject = req.get(cfg.subjectHeader)?.trim();
  return subject ? subject : null;
}

/**
 * Second factor of browser sessions: when `mode` is `required` and the signed-in user has a bound
 * certificate subject, the request must present exactly that subject (401 otherwise). Mount after
 * `bearerAuth` and before `requireUser` (which answers requests without a user). Requests authenticated by an API token are not checked: a token is its own credential,
 * created from a session that passed this check, and restricted in permissions and lifetime.
 */
export function requireClientCert(deps: { config: ClientCertConfig; users: Pick<UserStore, 'certSubject'>; trustedProxies: AddressSet }): RequestHandler {
  const { config } = deps;
  return async (req, res, next) => {
    if (config.mode === 'off' || !req.user || apiTokenOf(res)) return next();
    const bound = await deps.users.certSubject(req.user.sub);
    if (!bound) return next();
    const presented = presentedSubject(req, config, deps.trustedProxies);
    if (presented === bound) return next();
    throw new UnauthorizedError(
      presented
        ? 'the client certificate presented is not the one bound to your account'
        : 'your account requires its client certificate: connect through the TLS proxy with the certificate bound to your account',
    );
  };
}
