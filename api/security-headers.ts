import type { RequestHandler } from 'express';

/**
 * The portal's Content-Security-Policy, sent by the API on every response and by the nginx configs of
 * `deploy/` (their tests compare the text). Scripts and styles only from the origin: Vite emits no inline
 * script or style element, nothing needs `eval` (zod runs jitless, `portal/public/zod-jitless.js`), and the
 * inline styles Vue and Element Plus set go through the CSSOM (`element.style`), which the policy does not
 * govern, so no `'unsafe-inline'`. The Chromium tests fail on any violation. Nothing may frame the portal.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every API response carries (the nginx configs of `deploy/` send the same). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * Browser hardening headers on every response (API answers, the served portal, redirects, problem bodies).
 * With `hsts` (secure cookies: the API sits behind TLS) also Strict-Transport-Security. A small own
 * middleware instead of `helmet`, which is not installed here.
 */
export function securityHeaders(opts: { hsts: boolean }): RequestHandler {
  const headers = { ...SECURITY_HEADERS, ...(opts.hsts ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}) };
  return (_req, res, next) => {
    res.set(headers);
    next();
  };
}
