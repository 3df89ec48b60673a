import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../common/audit.ts';
import { startApp, waitForApi, type AppProcess } from '../stack/lib/apps.ts';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { appEnvFromProcess, stackEnv } from '../stack/testing/env.ts';
import { loginAs } from './auth/test-login.ts';

/** The audit log over HTTP, with the api as a real process against the real stack (OIDC login, MongoDB). */
const base = stackEnv('EDGEPORT_PUBLIC_URL');
const repoDir = new URL('..', import.meta.url).pathname;
const cookies: Record<string, string> = {};
const startedAt = new Date(Date.now() - 1000).toISOString();
let api: AppProcess;

async function call(user: string, method: string, path: string): Promise<{ status: number; headers: Headers; text: string; body: any }> {
  const res = await fetch(`${base}${path}`, { method, headers: { cookie: cookies[user] ?? '', accept: 'application/json' } });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') && !res.headers.get('content-type')?.includes('ndjson');
  return { status: res.status, headers: res.headers, text, body: json && text ? JSON.parse(text) : undefined };
}

/** Entries of `action` since the test started, polling briefly (failure and logout hooks are not awaited). */
async function entries(action: string, extra = '', want = 1): Promise<AuditEntry[]> {
  for (let i = 0; ; i++) {
    const r = await call('opsadmin', 'GET', `/api/audit?action=${action}&from=${encodeURIComponent(startedAt)}&limit=1000${extra}`);
    expect(r.status).toBe(200);
    const items = r.body.items as AuditEntry[];
    if (items.length >= want || i >= 50) return items;
    await sleep(100);
  }
}

beforeAll(async () => {
  api = startApp(repoDir, 'api', appEnvFromProcess());
  await waitForApi(api, base);
  for (const u of ['tenant', 'opsadmin']) cookies[u] = await loginAs(base, u, demoUserByUsername(u)!.password);
}, 180_000);

afterAll(async () => {
  await api?.stop();
});

describe('audit log over HTTP', () => {
  it('records logins, failed logins and logouts', async () => {
    const logins = await entries('auth.login', '&actorSub=u-tenant');
    expect(logins.at(-1)).toMatchObject({
      action: 'auth.login',
      outcome: 'success',
      actor: { sub: 'u-tenant', name: 'Tina Tenant' },
      target: 'user:u-tenant',
      details: { username: 'tenant' },
    });
    expect(logins.at(-1)?.ip).toBeTruthy();

    const failed = await fetch(`${base}/auth/callback?code=abc&state=forged`, { redirect: 'manual' });
    expect(failed.headers.get('location')).toBe('/?authError=login_failed');
    expect((await entries('auth.login.failed')).at(-1)).toMatchObject({ actor: null, outcome: 'failure', details: { code: 'login_failed' } });

    const session = await loginAs(base, 'tenant', demoUserByUsername('tenant')!.password);
    const out = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie: session, accept: 'application/json' } });
    expect(out.status).toBe(200);
    expect((await entries('auth.logout', '&actorSub=u-tenant')).at(-1)).toMatchObject({ actor: { sub: 'u-tenant' }, outcome: 'success' });
  });

  it('is closed to users without audit:read', async () => {
    for (const [method, path] of [
      ['GET', '/api/audit'],
      ['GET', '/api/audit/export?format=csv'],
      ['POST', '/api/audit/verify'],
    ] as const) {
      const r = await call('tenant', method, path);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.text).not.toContain('auth.login');
    }
    expect((await fetch(`${base}/api/audit`)).status).toBe(401);
  });

  it('lists with paging and refuses bad filters', async () => {
    const first = await call('opsadmin', 'GET', '/api/audit?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextAfterSeq).toBe(first.body.items[1].seq);
    const next = await call('opsadmin', 'GET', `/api/audit?limit=2&afterSeq=${first.body.nextAfterSeq}`);
    expect(next.body.items[0].seq).toBe(first.body.nextAfterSeq + 1);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['from=yesterday', 'from'],
      ['action[$ne]=x', 'action[$ne]'],
      ['afterSeq=-1', 'afterSeq'],
      ['nope=1', 'nope'],
    ]) {
      const r = await call('opsadmin', 'GET', `/api/audit?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('exports CSV and JSON lines as downloads', async () => {
    const csv = await call('opsadmin', 'GET', '/api/audit/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="edgeport-audit-[\dTZ-]+\.csv"$/);
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('seq,at,action,outcome,actorSub,actorName,target,ip,details,prevHash,hash');
    expect(rows.some((r) => r.includes(',auth.login,success,u-opsadmin,'))).toBe(true);

    const jsonl = await call('opsadmin', 'GET', '/api/audit/export');
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = jsonl.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    // The export's own audit entry is written once the transfer has ended, so it may land just after the response.
    await expect
      .poll(async () => (await entries('audit.export', '&actorSub=u-opsadmin')).at(-1)?.details, { timeout: 10_000 })
      .toMatchObject({ format: 'jsonl', entries: lines.length });
  });

  it('verifies the chain', async () => {
    const r = await call('opsadmin', 'POST', '/api/audit/verify');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, problems: [] });
    expect(r.body.checked).toBeGreaterThanOrEqual(r.body.headSeq);
    expect(r.body.headSeq).toBeGreaterThan(0);
  });
});
