import type { Request } from 'express';
import { z } from 'zod';
import { displayText } from '../../common/display-text.ts';
import { DecisionSchema, SubmitTicketSchema, TICKET_STATUSES } from '../../common/tickets.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { TicketService } from '../services/tickets.ts';
import type { RouteDef } from './define.ts';

const ListQuery = z.strictObject({ scope: z.enum(['mine', 'inbox', 'all']).default('mine'), status: z.enum(TICKET_STATUSES).optional() });
const IdParam = z.strictObject({ id: z.string().regex(/^tkt-[a-z0-9]+-[a-f0-9]{6}$/) });
const IdempotencyKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only')
  .optional();
const CancelBody = z.strictObject({ reason: displayText({ max: 2000, min: 0, multiline: true }).optional() });

/** A malformed id cannot exist: answer 404 rather than revealing id syntax rules to a prober. */
const ticketId = (req: Request): string => {
  const r = IdParam.safeParse(req.params);
  return r.success ? r.data.id : 'tkt-0-000000';
};

export function ticketRoutes(tickets: TicketService): RouteDef[] {
  const ofTicket = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await tickets.scopeOf(ticketId(req))) });
  return [
    {
      method: 'post',
      path: '/tickets',
      input: { body: SubmitTicketSchema, summary: 'Submit a ticket (one workflow per ticket)' },
      permission: 'ticket:create',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const key = parse(IdempotencyKey, req.get('idempotency-key'), 'Idempotency-Key');
        const body = parse(SubmitTicketSchema, req.body);
        const { ticket, created } = await tickets.submit(caller, body, key);
        res
          .status(created ? 201 : 200)
          .location(`/api/tickets/${ticket.id}`)
          .json(ticket);
      },
    },
    {
      method: 'get',
      path: '/tickets',
      input: { query: ListQuery },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const q = parse(ListQuery, req.query);
        res.json({ items: await tickets.list(caller, q) });
      },
    },
    {
      method: 'get',
      path: '/tickets/:id',
      input: { params: IdParam },
      permission: 'ticket:read',
      target: ofTicket,
      handler: async (req, res, { caller }) => void res.json(await tickets.get(caller, ticketId(req))),
    },
    {
      method: 'post',
      path: '/tickets/:id/decisions',
      input: { params: IdParam, body: DecisionSchema },
      permission: 'ticket:decide',
      target: ofTicket,
      handler: async (req, res, { caller }) => {
        const body = parse(DecisionSchema, req.body);
        res.json(await tickets.decide(caller, ticketId(req), body));
      },
    },
    {
      method: 'post',
      path: '/tickets/:id/cancel',
      input: { params: IdParam, body: CancelBody, bodyOptional: true },
      permission: 'ticket:create',
      target: ofTicket,
      handler: async (req, res, { caller }) => {
        const body = parse(CancelBody, req.body ?? {});
        res.json(await tickets.cancel(caller, ticketId(req), body.reason));
      },
    },
    {
      method: 'get',
      path: '/tickets/:id/timeline',
      input: { params: IdParam },
      permission: 'ticket:read',
      target: ofTicket,
      handler: async (req, res) => void res.json({ items: await tickets.timeline(ticketId(req)) }),
    },
  ];
}
