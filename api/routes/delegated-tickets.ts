import type { Request } from 'express';
import { z } from 'zod';
import { DecisionSchema } from '../../common/tickets.ts';
import { parse } from '../errors.ts';
import type { TicketService } from '../services/tickets.ts';
import type { RouteDef } from './define.ts';

const IdParam = z.strictObject({ id: z.string().regex(/^tkt-[a-z0-9]+-[a-f0-9]{6}$/) });
const ticketId = (req: Request): string => {
  const r = IdParam.safeParse(req.params);
  return r.success ? r.data.id : 'tkt-0-000000';
};

/**
 * Tickets a delegate decides for an approver. A delegate usually holds no role on the ticket's VDC, so
 * these routes are open to any signed-in user and the service answers 404 unless the caller holds an
 * active delegation from an approver who may decide the ticket's current step now: the delegation
 * grants exactly that ticket's view and decision, nothing else (no cancel, timeline or other tickets).
 */
export function delegatedTicketRoutes(tickets: TicketService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/delegated-tickets/:id',
      input: { params: IdParam },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => void res.json(await tickets.getDelegated(caller, ticketId(req))),
    },
    {
      method: 'post',
      path: '/delegated-tickets/:id/decisions',
      input: { params: IdParam, body: DecisionSchema },
      permission: 'signed-in',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const id = ticketId(req);
        const { onBehalfOf } = await tickets.getDelegated(caller, id);
        const body = parse(DecisionSchema, req.body);
        const decided = await tickets.decide(caller, id, body);
        res.json({ ...decided, ...(onBehalfOf ? { onBehalfOf } : {}) });
      },
    },
  ];
}
