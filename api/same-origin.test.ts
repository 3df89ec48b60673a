import express from 'express';
import { describe, expect, it } from 'vitest';
import { problemHandler } from './errors.ts';
import { sameOriginOnly } from './same-origin.ts';

const app = express();
app.use(sameOriginOnly('http://127.0.0.1:17250'));
app.all('/x', (_req, res) => void res.json({ ok: true }));
app.use(problemHandler(() => undefined));

async function status(method: string, headers: Record<string, string>): Promise<number> {
  const server = app.listen(0);
  try {
    const { port } = server.address() as { port: number };
    return (await fetch(`http://127.0.0.1:${port}/x`, { method, headers })).status;
  } finally {
    server.close();
  }
}

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
