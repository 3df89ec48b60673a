import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { FINAL_STATUSES, type TicketStatus } from '../common/tickets.ts';
import { loginAs } from '../api/auth/test-login.ts';
import { DEMO_USERS, type DemoUsername } from './oidc/demo-users.ts';
import { demoPlan, type DemoPlan, type DemoTicket } from './demo-plan.ts';
import { buildImage, type BuiltImage } from './testing/oci-image.ts';

/**
 * Seeds the demo through the HTTP API of a running api + worker, as an operator and the demo users would:
 * every demo user signs in through the real OIDC login (so they exist and can be named), `opsadmin` (made
 * ops admin at sign-in by `EDGEPORT_BOOTSTRAP_ADMINS`) registers the pools from their kubeconfigs, creates
 * the domain and VDCs, adds members and bindings and publishes the price book; then the tickets of
 * {@link demoPlan} are submitted by their requesters and decided by whichever demo user the API says may
 * decide them. Nothing is written to MongoDB or Kubernetes directly.
 *
 * Idempotent: pools, domains and VDCs are looked up before they are created (409 counts as done), members
 * and bindings are set-like, the price book is published only when there is none, and every ticket is
 * submitted with a fixed `Idempotency-Key`, so a second run finds the same tickets and only finishes what
 * is not final yet.
 */

interface Res<T = unknown> {
  status: number;
  body: T;
}

/** A signed-in demo user: the API session cookie and JSON helpers. */
class Session {
  constructor(
    readonly user: DemoUsername,
    private readonly base: string,
    private readonly cookie: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const res = await fetch(this.base + path, {
      method,
      headers: { cookie: this.cookie, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T };
  }

  get = <T = unknown>(path: string): Promise<Res<T>> => this.call<T>('GET', path);
  post = <T = unknown>(path: string, body: unknown, headers?: Record<string, string>): Promise<Res<T>> => this.call<T>('POST', path, body, headers);
}

/** Thrown when a step of the demo gets an answer it cannot go on from. */
export class DemoSeedError extends Error {
  override name = 'DemoSeedError';
}

const expectOk = (what: string, r: Res, ok: readonly number[] = [200, 201, 202, 204]): void => {
  if (!ok.includes(r.status)) throw new DemoSeedError(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
};

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new DemoSeedError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface DemoSeedOptions {
  /** The API's public URL (`EDGEPORT_PUBLIC_URL`). */
  baseUrl: string;
  /** The app env (`stack/lib/app-env.ts`): kubeconfig paths of the pools and the registry URL. */
  env: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
  /** How long one ticket may take to reach its state (default 120 s). */
  ticketTimeoutMs?: number;
}

export interface DemoSeedSummary {
  /** Objects and tickets created by this run (0 on a warm run over kept data). */
  created: number;
  /** Tickets by the state they ended in. */
  tickets: Partial<Record<TicketStatus, number>>;
  /** Tickets that did not end where the plan wanted, with the reason (the demo goes on without them). */
  mismatches: string[];
}

/** Seeds the demo over HTTP; see the module comment. */
export async function seedDemoThroughApi(opts: DemoSeedOptions): Promise<DemoSeedSummary> {
  const log = opts.log ?? (() => undefined);
  const registryUrl = opts.env.EDGEPORT_REGISTRY_URL;
  const plan = demoPlan({ registry: Boolean(registryUrl) });
  const summary: DemoSeedSummary = { created: 0, tickets: {}, mismatches: [] };

  // Everyone signs in once: users exist from their first sign-in, and opsadmin becomes ops admin then.
  const sessions = Object.fromEntries(
    await Promise.all(
      DEMO_USERS.map(async (u) => [u.username, new Session(u.username, opts.baseUrl, await loginAs(opts.baseUrl, u.username, u.password))] as const),
    ),
  ) as Record<DemoUsername, Session>;
  const ops = sessions.opsadmin;

  await seedPools(plan, ops, opts.env, summary, log);
  await seedTenancy(plan, ops, summary, log);
  await seedPriceBook(plan, ops, summary, log);

  const ctx: TicketContext = { sessions, summary, log, timeoutMs: opts.ticketTimeoutMs ?? 120_000, registryUrl };
  await Promise.all(
    plan.ticketGroups.map(async (group) => {
      for (const ticket of group) {
        // One ticket that does not end as planned (timeout, refusal) is reported; the demo goes on.
        await playTicket(ctx, ticket).catch((err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          summary.mismatches.push(`${ticket.key}: ${why}`);
          log(`ticket ${ticket.key}: ${why}`);
        });
      }
    }),
  );
  return summary;
}

/** Pools as `GET /api/pools` lists them (`GET /api/pools/:id` is the live overview, read from the cluster). */
async function poolView(ops: Session, id: string): Promise<{ id: string; status: string; reason?: string } | undefined> {
  const r = await ops.get<{ items: { id: string; status: string; reason?: string }[] }>('/api/pools');
  expectOk('GET /api/pools', r);
  return r.body.items.find((p) => p.id === id);
}

async function seedPools(plan: DemoPlan, ops: Session, env: DemoSeedOptions['env'], summary: DemoSeedSummary, log: (l: string) => void): Promise<void> {
  await Promise.all(
    plan.pools.map(async (p) => {
      if (!(await poolView(ops, p.id))) {
        const path = env[p.kubeconfigEnv];
        if (!path) throw new DemoSeedError(`${p.kubeconfigEnv} is not set: cannot register pool ${p.id}`);
        const kubeconfig = readFileSync(path, 'utf8');
        const doc = parseYaml(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] };
        const server = doc.clusters?.[0]?.cluster?.server;
        if (!server) throw new DemoSeedError(`${path} names no cluster server`);
        const r = await ops.post('/api/pools', { id: p.id, name: p.name, server, auth: { type: 'kubeconfig', kubeconfig } });
        if (r.status !== 409) {
          expectOk(`register pool ${p.id}`, r);
          summary.created++;
          log(`pool ${p.id} registered (${server})`);
        }
      }
      const ready = await until(
        `pool ${p.id} ready`,
        async () => {
          const v = await poolView(ops, p.id);
          return !v || v.status === 'checking' ? undefined : v;
        },
        60_000,
      );
      if (ready.status !== 'ready') throw new DemoSeedError(`pool ${p.id} is ${ready.status}: ${ready.reason ?? ''}`);
    }),
  );
}

async function seedTenancy(plan: DemoPlan, ops: Session, summary: DemoSeedSummary, log: (l: string) => void): Promise<void> {
  const { domain } = plan;
  if ((await ops.get(`/api/domains/${domain.id}`)).status === 404) {
    const r = await ops.post('/api/domains', domain);
    if (r.status !== 409) {
      expectOk(`create domain ${domain.id}`, r);
      summary.created++;
      log(`domain ${domain.id} created`);
    }
  }
  await Promise.all(
    plan.vdcs.map(async ({ domainId, members, ...body }) => {
      if ((await ops.get(`/api/vdcs/${body.id}`)).status === 404) {
        const r = await ops.post(`/api/domains/${domainId}/vdcs`, body);
        if (r.status !== 409) {
          expectOk(`create VDC ${body.id}`, r);
          summary.created++;
          log(`VDC ${body.id} created on ${body.pools.map((p) => p.pool).join(' + ')}`);
        }
      }
      const current = await ops.get<{ items: { username: string; roles: string[] }[] }>(`/api/vdcs/${body.id}/members`);
      expectOk(`members of VDC ${body.id}`, current);
      for (const m of members) {
        const has = current.body.items.find((c) => c.username === m.user);
        if (has && m.roles.every((role) => has.roles.includes(role))) continue;
        const r = await ops.post(`/api/vdcs/${body.id}/members`, { user: m.user, roles: m.roles });
        expectOk(`add ${m.user} to VDC ${body.id}`, r);
        summary.created++;
      }
      // A VDC is usable once its provisioning workflow made its namespaces (records without the field predate it).
      const vdc = await until(
        `VDC ${body.id} provisioned`,
        async () => {
          const r = await ops.get<{ provisioning?: { state: string; reason?: string } }>(`/api/vdcs/${body.id}`);
          const state = r.body.provisioning?.state;
          return state === 'provisioning' ? undefined : r.body;
        },
        120_000,
      );
      if (vdc.provisioning && vdc.provisioning.state !== 'ready')
        throw new DemoSeedError(`VDC ${body.id} is ${vdc.provisioning.state}: ${vdc.provisioning.reason ?? ''}`);
    }),
  );
  for (const b of plan.bindings) {
    const r = await ops.post('/api/bindings', b);
    expectOk(`bind ${b.user} as ${b.role}`, r);
  }
}

async function seedPriceBook(plan: DemoPlan, ops: Session, summary: DemoSeedSummary, log: (l: string) => void): Promise<void> {
  const current = await ops.get<{ items: unknown[] }>('/api/pricebook');
  expectOk('GET /api/pricebook', current);
  if (current.body.items.length > 0) return;
  const r = await ops.post<{ version: number; effectiveFrom: string }>('/api/pricebook', plan.priceBook);
  expectOk('publish the price book', r);
  summary.created++;
  log(`price book v${r.body.version} published (effective from ${r.body.effectiveFrom})`);
}

interface TicketContext {
  sessions: Record<DemoUsername, Session>;
  summary: DemoSeedSummary;
  log: (l: string) => void;
  timeoutMs: number;
  registryUrl: string | undefined;
}

interface TicketBody {
  id: string;
  status: TicketStatus;
  currentStep: number | null;
  canDecide?: boolean;
  error?: string;
}

/** Demo users who may decide somewhere, tried in this order (a requester never decides their own). */
const DECIDERS: readonly DemoUsername[] = ['vdcadmin', 'other', 'opsadmin'];

async function playTicket(ctx: TicketContext, plan: DemoTicket): Promise<void> {
  const requester = ctx.sessions[plan.as];
  const mismatch = (why: string): void => {
    ctx.summary.mismatches.push(`${plan.key}: ${why}`);
    ctx.log(`ticket ${plan.key}: ${why}`);
  };
  if (plan.needsImage) {
    if (!ctx.registryUrl) return;
    await pushStagingImage(requester, ctx.registryUrl, plan.needsImage.repository, plan.needsImage.tag);
  }
  const submitted = await requester.post<TicketBody>('/api/tickets', plan.body, { 'idempotency-key': plan.key });
  if (submitted.status !== 200 && submitted.status !== 201)
    return mismatch(`submit refused: HTTP ${submitted.status} ${JSON.stringify(submitted.body).slice(0, 300)}`);
  if (submitted.status === 201) ctx.summary.created++;
  const id = submitted.body.id;
  // A quota lease stays `executing` while it is active: that is where a planned `executing` settles.
  const settled = (s: TicketStatus): boolean => s === 'pending_approval' || FINAL_STATUSES.includes(s) || (s === 'executing' && plan.outcome === 'executing');
  const wait = (what: string, done: (s: TicketStatus) => boolean): Promise<TicketBody> =>
    until(
      `${plan.key} (${id}) ${what}`,
      async () => {
        const r = await requester.get<TicketBody>(`/api/tickets/${id}`);
        return done(r.body.status) ? r.body : undefined;
      },
      ctx.timeoutMs,
    );

  let t = await wait('to leave preflight', settled);
  while (t.status === 'pending_approval' && plan.outcome !== 'pending_approval') {
    if (plan.outcome === 'cancelled') {
      expectOk(`cancel ${id}`, await requester.post(`/api/tickets/${id}/cancel`, { reason: 'Demo: asked by mistake' }));
    } else {
      const decider = await findDecider(ctx, id, plan.as);
      if (!decider) return mismatch(`pending approval and no demo user may decide it`);
      const decision = plan.outcome === 'rejected' ? 'reject' : 'approve';
      const r = await decider.post(`/api/tickets/${id}/decisions`, { decision, comment: plan.comment ?? (decision === 'approve' ? 'Looks good' : 'Not now') });
      if (r.status >= 400 && r.status !== 409)
        return mismatch(`${decider.user} could not ${decision}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    }
    // After a decision the ticket moves on (next step, executing, or final); wait until it settles again.
    // The projection records the approval a moment before it moves the step, so only a new step counts.
    const step = t.currentStep;
    t = await until(
      `${plan.key} (${id}) after the decision`,
      async () => {
        const r = await requester.get<TicketBody>(`/api/tickets/${id}`);
        if (r.body.status === 'pending_approval' && (r.body.currentStep === step || r.body.currentStep === null)) return undefined;
        return settled(r.body.status) ? r.body : undefined;
      },
      ctx.timeoutMs,
    );
  }
  ctx.summary.tickets[t.status] = (ctx.summary.tickets[t.status] ?? 0) + 1;
  if (t.status !== plan.outcome) mismatch(`ended ${t.status}, planned ${plan.outcome}${t.error ? ` (${t.error})` : ''}`);
}

/**
 * The first demo user who may decide the ticket's current step. Polled for a while: the ticket's projection
 * shows `pending_approval` a moment before the workflow has opened its first step.
 */
async function findDecider(ctx: TicketContext, id: string, requester: DemoUsername): Promise<Session | undefined> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    for (const name of DECIDERS) {
      if (name === requester) continue;
      const r = await ctx.sessions[name].get<TicketBody>(`/api/tickets/${id}`);
      if (r.status === 200 && r.body.canDecide) return ctx.sessions[name];
    }
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

/**
 * Pushes a small two-architecture image to the VDC's staging repository the way `docker push` does: the
 * registry's bearer challenge names the token service (Edgeport's `GET /api/registry/token`), which issues
 * a push token to the signed-in member. Skipped when the tag is already there.
 */
async function pushStagingImage(user: Session, registryUrl: string, repository: string, tag: string): Promise<void> {
  const challenge = await fetch(`${registryUrl}/v2/`);
  await challenge.body?.cancel();
  const header = challenge.headers.get('www-authenticate') ?? '';
  const service = /service="([^"]+)"/.exec(header)?.[1];
  const query = new URLSearchParams({ ...(service ? { service } : {}), scope: `repository:${repository}:pull,push` });
  const tokenRes = await user.get<{ token: string }>(`/api/registry/token?${query}`);
  expectOk(`registry token for ${repository}`, tokenRes);
  const auth = { authorization: `Bearer ${tokenRes.body.token}` };
  const head = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { ...auth, accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' },
  });
  if (head.ok) return;
  const image: BuiltImage = buildImage({ archs: ['amd64', 'arm64'], layers: [{ 'usr/share/hello/README': 'Hello from the Edgeport demo\n' }] });
  for (const b of image.blobs) {
    const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: auth });
    await start.body?.cancel();
    if (start.status !== 202) throw new DemoSeedError(`blob upload to ${repository}: HTTP ${start.status}`);
    const location = new URL(start.headers.get('location') ?? '', registryUrl);
    location.searchParams.set('digest', b.digest);
    const put = await fetch(location, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: new Uint8Array(b.data) });
    await put.body?.cancel();
    if (put.status !== 201) throw new DemoSeedError(`blob ${b.digest} to ${repository}: HTTP ${put.status}`);
  }
  const manifests =
    image.manifests.length > 1 ? [...image.manifests.map((m) => [m, m.digest] as const), [image.top, tag] as const] : [[image.top, tag] as const];
  for (const [m, ref] of manifests) {
    const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${ref}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': m.mediaType },
      body: new Uint8Array(m.data),
    });
    await put.body?.cancel();
    if (put.status !== 201) throw new DemoSeedError(`manifest ${ref} to ${repository}: HTTP ${put.status}`);
  }
}
