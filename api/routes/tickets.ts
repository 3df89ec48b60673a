import { Router } from 'express';
import { z } from 'zod';
import { DecisionSchema, SubmitTicketSchema, TICKET_STATUSES } from '../../common/tickets.ts';
import { parse } from '../errors.ts';
import type { TicketService } from '../services/tickets.ts';
import { caller } from './caller.ts';

const ListQuery = z.strictObject({ scope: z.enum(['mine', 'inbox', 'all']).default('mine'), status: z.enum(TICKET_STATUSES).optional() });
const IdParam = z.strictObject({ id: z.string().regex(/^tkt-[a-z0-9]+-[a-f0-9]{6}$/, 'not a ticket id') });
const IdempotencyKey = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').optional();
const CancelBody = z.strictObject({ reason: z.string().max(2000).optional() });

/** A malformed id cannot exist: answer 404 rather than revealing id syntax rules to a prober. */
const ticketId = (params: unknown): string => {
  const r = IdParam.safeParse(params);
  return r.success ? r.data.id : 'tkt-0-000000';
};

export function ticketRoutes(tickets: TicketService): Router {
  const r = Router();
  r.post('/', async (req, res) => {
    const key = parse(IdempotencyKey, req.get('idempotency-key'), 'Idempotency-Key');
    const body = parse(SubmitTicketSchema, req.body);
    const { ticket, created } = await tickets.submit(caller(res), body, key);
    res.status(created ? 201 : 200).location(`/api/tickets/${ticket.id}`).json(ticket);
  });
  r.get('/', async (req, res) => {
    const q = parse(ListQuery, req.query);
    res.json({ items: await tickets.list(caller(res), q) });
  });
  r.get('/:id', async (req, res) => {
    res.json(await tickets.get(caller(res), ticketId(req.params)));
  });
  r.post('/:id/decisions', async (req, res) => {
    const body = parse(DecisionSchema, req.body);
    res.json(await tickets.decide(caller(res), ticketId(req.params), body));
  });
  r.post('/:id/cancel', async (req, res) => {
    const body = parse(CancelBody, req.body ?? {});
    res.json(await tickets.cancel(caller(res), ticketId(req.params), body.reason));
  });
  r.get('/:id/timeline', async (req, res) => {
    res.json({ items: await tickets.timeline(caller(res), ticketId(req.params)) });
  });
  return r;
}
