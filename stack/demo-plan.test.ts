import { describe, expect, it } from 'vitest';
import { SubmitTicketSchema, TICKET_TYPES } from '../common/tickets.ts';
import { CreateVdcSchema } from '../common/tenancy.ts';
import { DEMO_USERS } from './oidc/demo-users.ts';
import { DEMO_KEY_PREFIX, demoPlan } from './demo-plan.ts';

describe('demo plan', () => {
  const plan = demoPlan({ registry: true });
  const tickets = plan.ticketGroups.flat();
  const usernames: readonly string[] = DEMO_USERS.map((u) => u.username);

  it('runs on both pools, with a VDC spanning both', () => {
    expect(plan.pools.map((p) => p.id)).toEqual(['local', 'edge-1']);
    const used = new Set(plan.vdcs.flatMap((v) => v.pools.map((p) => p.pool)));
    expect([...used].sort()).toEqual(['edge-1', 'local']);
    expect(plan.vdcs.some((v) => v.pools.length === 2)).toBe(true);
  });

  it('creates VDCs and submits tickets the API accepts', () => {
    for (const { domainId: _d, members: _m, ...body } of plan.vdcs) expect(CreateVdcSchema.safeParse(body).error).toBeUndefined();
    for (const t of tickets) expect(SubmitTicketSchema.safeParse(t.body).error, t.key).toBeUndefined();
  });

  it('has unique, prefixed idempotency keys', () => {
    const keys = tickets.map((t) => t.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of keys) expect(k.startsWith(`${DEMO_KEY_PREFIX}-`)).toBe(true);
  });

  it('has requesters who are members of the ticket VDC and, where decided, a second admin', () => {
    for (const t of tickets) {
      const vdc = plan.vdcs.find((v) => v.id === t.body.vdcId);
      expect(vdc, t.key).toBeDefined();
      expect(
        vdc?.members.map((m) => m.user),
        t.key,
      ).toContain(t.as);
      if (t.outcome === 'pending_approval' || t.outcome === 'cancelled') continue;
      const deciders = vdc?.members.filter((m) => m.user !== t.as && m.roles.includes('vdc-admin')) ?? [];
      expect(deciders.length, `${t.key}: nobody but the requester may approve`).toBeGreaterThan(0);
      expect(usernames).toContain(t.as);
    }
  });

  it('covers every ticket type and several end states', () => {
    const types = new Set(tickets.map((t) => t.body.type));
    for (const type of TICKET_TYPES) {
      expect(types.has(type), type).toBe(true);
    }
    const outcomes = new Set(tickets.map((t) => t.outcome));
    for (const o of ['completed', 'rejected', 'cancelled', 'pending_approval', 'executing'] as const) expect(outcomes.has(o), o).toBe(true);
  });

  it('leaves the image ticket out without a registry', () => {
    expect(
      demoPlan({ registry: false })
        .ticketGroups.flat()
        .some((t) => t.body.type === 'image-publish'),
    ).toBe(false);
  });
});
