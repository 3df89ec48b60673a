import express from 'express';
import { describe, expect, it } from 'vitest';
import { problemHandler } from './errors.ts';
import { sameOriginOnly } from './same-origin.ts';
import { SECURITY_HEADERS, securityHeaders } from './security-headers.ts';

const app = express();
app.use(securityHeaders({ hsts: false }));
app.use(sameOriginOnly('http://127.0.0.1:17250'));
app.all('/x', (_req, res) => void res.json({ ok: true }));
app.use(problemHandler(() => undefined));

async function answer(method: string, headers: Record<string, string>): Promise<Response> {
  const server = app.listen(0);
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/x`, { method, headers });
    await res.arrayBuffer();
    return res;
  } finally {
    server.close();
  }
}
const status = async (method: string, headers: Record<string, string>): Promise<number> => (await answer(method, headers)).status;

describe('sameOriginOnly', () => {
  it.each([
    ['POST', {}, 200],
    ['POST', { origin: 'http://127.0.0.1:17250' }, 200],
    ['POST', { origin: 'https://evil.example' }, 403],
    ['DELETE', { 'sec-fetch-site': 'cross-site' }, 403],
    ['PUT', { 'sec-fetch-site': 'same-site' }, 403],
    ['PATCH', { 'sec-fetch-site': 'same-origin' }, 200],
    ['GET', { origin: 'https://evil.example' }, 200],
  ] as const)('%s with %j → %i', async (method, headers, expected) => {
    expect(await status(method, headers)).toBe(expected);
  });
});

describe('securityHeaders', () => {
  it.each([
    ['POST', {}, 200],
    ['POST', { origin: 'https://evil.example' }, 403],
  ] as const)('%s with %j → %i carries every header, the refusal too', async (method, headers, expected) => {
    const res = await answer(method, headers);
    expect(res.status).toBe(expected);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('adds Strict-Transport-Security behind TLS (secure cookies)', async () => {
    const tls = express().use(securityHeaders({ hsts: true }));
    tls.get('/', (_req, res) => void res.end());
    const server = tls.listen(0);
    try {
      const { port } = server.address() as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/`)).headers.get('strict-transport-security')).toBe('max-age=31536000');
    } finally {
      server.close();
    }
  });
});
