import { readFileSync } from 'node:fs';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** TLS material for a probe: PEM file paths, or `insecure` for components serving a self-signed certificate. */
export interface ProbeTls {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

/**
 * GET for health and version probes (fetch cannot present client certificates). Resolves with the status
 * and body; rejects on connection errors or after `timeoutMs`.
 */
export function probe(url: string, tls: ProbeTls = {}, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const read = (f: string | undefined): Buffer | undefined => (f === undefined ? undefined : readFileSync(f));
  return new Promise((resolve, reject) => {
    const callback = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    };
    const req = url.startsWith('https:')
      ? httpsRequest(url, { ca: read(tls.ca), cert: read(tls.cert), key: read(tls.key), rejectUnauthorized: !tls.insecure, agent: false }, callback)
      : httpRequest(url, { agent: false }, callback);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** True when `url` answers 200. */
export async function probeOk(url: string, tls?: ProbeTls): Promise<boolean> {
  return (await probe(url, tls)).status === 200;
}
