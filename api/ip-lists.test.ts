import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoUserByUsername } from '../stack/oidc/demo-users.ts';
import { startTestApi, type TestApi } from '../stack/testing/api-process.ts';
import { stackEnv } from '../stack/testing/env.ts';
import { openStore, type Store } from '../store/index.ts';
import { loginAs } from './auth/test-login.ts';
import { AddressSet, IpPolicy, parseCidr, trustedProxyCidrs } from './ip-match.ts';

describe('CIDR matching', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    [' 192.0.2.7 ', { address: '192.0.2.7', prefix: 32, family: 'ipv4' }],
    ['2001:DB8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['::ffff:10.0.0.0/104', { address: '::ffff:10.0.0.0', prefix: 104, family: 'ipv6' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
  ])('parses %s', (text, cidr) => expect(parseCidr(text)).toEqual(cidr));

  it.each([
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0/8',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    'fe80::1%eth0/64',
    'example.com',
    '',
    '01.2.3.4',
  ])('refuses %j', (text) => expect(parseCidr(text)).toBeNull());

  it('matches IPv6 prefixes', () => {
    const set = new AddressSet(['2001:db8:abcd::/48', 'fe80::/10', '::1']);
    expect(set.has('2001:db8:abcd:12::1')).toBe(true);
    expect(set.has('2001:DB8:ABCD:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(set.has('2001:db8:abce::1')).toBe(false);
    expect(set.has('fe80::1%eth0')).toBe(true);
    expect(set.has('febf::1')).toBe(true);
    expect(set.has('fec0::1')).toBe(false);
    expect(set.has('::1')).toBe(true);
    expect(set.has('::2')).toBe(false);
    expect(set.has('127.0.0.1')).toBe(false);
    expect(set.has('not an address')).toBe(false);
    expect(set.has(undefined)).toBe(false);
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 rules and back', () => {
    expect(new AddressSet(['127.0.0.0/8']).has('::ffff:127.0.0.1')).toBe(true);
    expect(new AddressSet(['::ffff:10.0.0.0/104']).has('10.1.2.3')).toBe(true);
    expect(new AddressSet(['10.0.0.0/8']).has('::ffff:11.0.0.1')).toBe(false);
  });

  it('deny wins, a non-empty allow list admits only its members, unknown addresses pass only without lists', () => {
    const policy = new IpPolicy({ allow: ['198.51.100.0/24', '2001:db8::/32'], deny: ['198.51.100.128/25', '2001:db8:bad::/48'] });
    expect(policy.admits('198.51.100.5')).toBe(true);
    expect(policy.admits('198.51.100.200')).toBe(false);
    expect(policy.admits('192.0.2.1')).toBe(false);
    expect(policy.admits('2001:db8:1::1')).toBe(true);
    expect(policy.admits('2001:db8:bad::1')).toBe(false);
    expect(policy.admits('garbage')).toBe(false);
    const denyOnly = new IpPolicy({ allow: [], deny: ['203.0.113.0/24'] });
    expect(denyOnly.admits('203.0.113.9')).toBe(false);
    expect(denyOnly.admits('2001:db8::1')).toBe(true);
    expect(denyOnly.admits(undefined)).toBe(false);
    expect(new IpPolicy({ allow: [], deny: [] }).admits(undefined)).toBe(true);
  });

  it('expands trusted-proxy aliases and refuses typos', () => {
    expect(trustedProxyCidrs(['loopback', '10.1.0.0/16'])).toEqual(['127.0.0.0/8', '::1/128', '10.1.0.0/16']);
    expect(() => trustedProxyCidrs(['loopbak'])).toThrow(/loopbak/);
  });
});

/** The lists over HTTP, with the api as a real process behind a (simulated) trusted proxy on 127.0.0.1. */
describe('IP allow and deny lists over HTTP', () => {
  let api: TestApi;
  /** A second api that trusts no proxy on loopback: X-Forwarded-For from 127.0.0.1 is ignored there. */
  let direct: TestApi;
  let store: Store;
  const cookies: Record<string, string> = {};

  async function call(method: string, path: string, opts: { user?: string; from?: string; body?: unknown; via?: TestApi } = {}) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.user) headers.cookie = cookies[opts.user] ?? '';
    if (opts.from) headers['x-forwarded-for'] = opts.from;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${(opts.via ?? api).base}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      redirect: 'manual',
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : text };
  }
  const put = (allow: string[], deny: string[]) => call('PUT', '/api/ip-lists', { user: 'opsadmin', body: { allow, deny } });
  const clear = () => store.ipLists.set({ allow: [], deny: [], updatedAt: new Date(), updatedBy: { sub: 'test', name: 'ip-lists test' } });

  beforeAll(async () => {
    store = await openStore(stackEnv('EDGEPORT_MONGO_URL'));
    await clear();
    [api, direct] = await Promise.all([
      startTestApi({ EDGEPORT_TRUSTED_PROXIES: '127.0.0.1' }),
      startTestApi({ EDGEPORT_TRUSTED_PROXIES: '192.0.2.250', EDGEPORT_IPLIST_CACHE_SECONDS: '0' }, { port: 'free' }),
    ]);
    for (const u of ['opsadmin', 'tenant']) cookies[u] = await loginAs(api.base, u, demoUserByUsername(u)!.password);
  }, 180_000);

  afterAll(async () => {
    if (store) await clear();
    await Promise.all([api?.stop(), direct?.stop()]);
    await store?.close();
  });

  it('are read and written by operations admins only, showing the address the API sees', async () => {
    expect((await call('GET', '/api/ip-lists', { user: 'tenant' })).status).toBe(403);
    expect((await call('PUT', '/api/ip-lists', { user: 'tenant', body: { allow: [], deny: [] } })).status).toBe(403);
    const r = await call('GET', '/api/ip-lists', { user: 'opsadmin' });
    expect(r).toMatchObject({ status: 200, body: { allow: [], deny: [], clientAddress: '127.0.0.1' } });
    expect((await call('GET', '/api/ip-lists', { user: 'opsadmin', from: '198.51.100.9' })).body.clientAddress).toBe('198.51.100.9');
  });

  it('refuses invalid entries with 400 naming the entry, storing nothing', async () => {
    const r = await put(['10.0.0.0/8', '2001:db8::/32', '10.0.0.0/33'], ['not-an-ip']);
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual(['allow[2]', 'deny[0]']);
    expect((await put(['10.0.0.0/8'], [7 as unknown as string])).body.errors[0].field).toBe('deny[0]');
    expect((await call('PUT', '/api/ip-lists', { user: 'opsadmin', body: { allow: [] } })).body.errors[0].field).toBe('deny');
    expect((await call('GET', '/api/ip-lists', { user: 'opsadmin' })).body).toMatchObject({ allow: [], deny: [] });
  });

  it('refuses (409) lists that would lock the caller out, storing nothing', async () => {
    for (const [allow, deny] of [
      [[], ['127.0.0.0/8']],
      [[], ['0.0.0.0/0']],
      [['127.0.0.0/8'], ['127.0.0.1']],
      [['10.0.0.0/8', '2001:db8::/32'], []],
    ] as const) {
      const r = await put([...allow], [...deny]);
      expect(r.status).toBe(409);
      expect(r.body.detail).toMatch(/your own address 127\.0\.0\.1/);
    }
    expect((await call('GET', '/api/ip-lists', { user: 'opsadmin' })).body).toMatchObject({ allow: [], deny: [] });
  });

  it('refuses (403) requests forwarded by a trusted proxy for a denied address, before authentication, /auth included', async () => {
    const r = await put([], ['203.0.113.0/24', '2001:DB8:BAD::/48']);
    expect(r).toMatchObject({ status: 200, body: { allow: [], deny: ['203.0.113.0/24', '2001:db8:bad::/48'], updatedBy: { sub: 'u-opsadmin' } } });
    const denied = await call('GET', '/api/me', { user: 'opsadmin', from: '203.0.113.7' });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await call('GET', '/api/me', { from: '203.0.113.7' })).status).toBe(403);
    expect((await call('GET', '/auth/login', { from: '203.0.113.7' })).status).toBe(403);
    expect((await call('GET', '/', { from: '203.0.113.7' })).status).toBe(403);
    expect((await call('GET', '/api/me', { user: 'opsadmin', from: '2001:db8:bad::1' })).status).toBe(403);
    // The client's own X-Forwarded-For entry cannot hide it: the trusted proxy appends the real peer.
    expect((await call('GET', '/api/me', { user: 'opsadmin', from: '198.51.100.7, 203.0.113.7' })).status).toBe(403);
    expect((await call('GET', '/api/me', { user: 'opsadmin', from: '198.51.100.7' })).status).toBe(200);
    expect((await call('GET', '/api/me', { user: 'opsadmin', from: '2001:db8:900d::1' })).status).toBe(200);
    expect((await call('GET', '/healthz', { from: '203.0.113.7' })).status).toBe(200);

    const audit = await store.testing
      .collection('audit_entries')
      .find({ action: 'iplist.update', 'actor.sub': 'u-opsadmin' })
      .sort({ seq: -1 })
      .limit(1)
      .toArray();
    expect(audit[0]).toMatchObject({
      target: 'iplist:platform',
      outcome: 'success',
      details: { allow: [], deny: ['203.0.113.0/24', '2001:db8:bad::/48'] },
      ip: '127.0.0.1',
    });
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    expect((await put([], ['203.0.113.0/24'])).status).toBe(200);
    const r = await call('GET', '/api/ip-lists', { user: 'opsadmin', from: '203.0.113.7', via: direct });
    expect(r).toMatchObject({ status: 200, body: { clientAddress: '127.0.0.1', deny: ['203.0.113.0/24'] } });
  });

  it('with an allow list, admits only listed addresses; deny wins inside it', async () => {
    const r = await put(['127.0.0.1', '198.51.100.0/24', '2001:db8::/32'], ['198.51.100.128/25']);
    expect(r.status).toBe(200);
    expect(r.body.allow).toEqual(['127.0.0.1/32', '198.51.100.0/24', '2001:db8::/32']);
    const status = async (from: string) => (await call('GET', '/api/me', { user: 'opsadmin', from })).status;
    expect(await status('198.51.100.5')).toBe(200);
    expect(await status('198.51.100.200')).toBe(403);
    expect(await status('192.0.2.1')).toBe(403);
    expect(await status('2001:db8:1:2::3')).toBe(200);
    expect(await status('2001:db9::1')).toBe(403);
    expect((await call('GET', '/api/me', { user: 'opsadmin' })).status).toBe(200);
    // The other api process picks the lists up from MongoDB (cache TTL 0 there).
    expect((await call('GET', '/api/me', { user: 'opsadmin', via: direct })).status).toBe(200);
    await store.ipLists.set({ allow: ['198.51.100.0/24'], deny: [], updatedAt: new Date(), updatedBy: { sub: 'test', name: 'test' } });
    expect((await call('GET', '/api/me', { user: 'opsadmin', via: direct })).status).toBe(403);
    await clear();
    expect((await call('GET', '/api/me', { user: 'opsadmin', via: direct })).status).toBe(200);
  });
});
