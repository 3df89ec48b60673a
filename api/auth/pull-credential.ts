import type { RequestHandler } from 'express';
import { PULL_CREDENTIAL_PREFIX } from '../../common/pull-credentials.ts';
import type { RegistryService } from '../services/registry.ts';

/**
 * `Authorization: Basic vdc-<id>-pull:eppull_…` on the registry token endpoint: a VDC's pull credential, the
 * login kubelet (or skopeo) reads from the VDC's `edgeport-pull` Secret. It is no user: the token is answered
 * here, granting `pull` on the VDC's and the public repositories only (see `RegistryService.pullCredentialToken`);
 * a wrong or rotated secret is 401. Any other request passes through to the user paths (API token, session).
 * Mount on the token path only, before `basicTokenAuth`.
 */
export function pullCredentialAuth(registry: Pick<RegistryService, 'pullCredentialToken'>): RequestHandler {
  return async (req, res, next) => {
    const m = /^basic\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m || req.method !== 'GET') return next();
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (!password.startsWith(PULL_CREDENTIAL_PREFIX)) return next();
    res.set('WWW-Authenticate', 'Basic realm="edgeport"');
    const body = await registry.pullCredentialToken(decoded.slice(0, colon), password, { service: req.query.service, scope: req.query.scope });
    res.set('Cache-Control', 'no-store');
    res.json(body);
  };
}
