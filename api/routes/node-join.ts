import type { Request } from 'express';
import { z } from 'zod';
import type { Target } from '../authz.ts';
import { NotFoundError } from '../errors.ts';
import type { NodeJoinService } from '../services/node-join.ts';
import type { Store } from '../../store/index.ts';
import type { RouteDef } from './define.ts';

const IdParam = z.strictObject({ id: z.string().regex(/^tkt-[a-z0-9]+-[a-f0-9]{6}$/) });
const ticketId = (req: Request): string => {
  const r = IdParam.safeParse(req.params);
  return r.success ? r.data.id : 'tkt-0-000000';
};

/**
 * `GET /api/tickets/:id/join-command`: the one-time join command of a node-join ticket. Needs `ticket:read`
 * on the ticket's VDC (a ticket the caller cannot read is 404); the service then allows only the requester
 * or an approver of the VDC (`ticket:decide`). Never cached.
 * `GET /api/tickets/:id/join-status`: its state (waiting / joined / expired / revoked), expiry and who fetched
 * the command when, for any reader of the ticket; no secret in it.
 */
export function nodeJoinRoutes(nodeJoin: NodeJoinService, store: Store): RouteDef[] {
  const ofTicket = async (req: Request): Promise<Target> => {
    const t = await store.tickets.get(ticketId(req));
    if (!t) throw new NotFoundError();
    return { kind: 'vdc', vdcId: t.vdc.id, domainId: t.vdc.domainId };
  };
  return [
    {
      method: 'get',
      path: '/tickets/:id/join-command',
      input: { params: IdParam },
      permission: 'ticket:read',
      target: ofTicket,
      handler: async (req, res, { caller }) => {
        const view = await nodeJoin.fetchJoinCommand(caller, ticketId(req));
        res.set('Cache-Control', 'no-store').json(view);
      },
    },
    {
      method: 'get',
      path: '/tickets/:id/join-status',
      input: { params: IdParam, summary: "State of a node-join ticket's one-time token and node (never the command)" },
      permission: 'ticket:read',
      target: ofTicket,
      handler: async (req, res, { caller }) => {
        res.set('Cache-Control', 'no-store').json(await nodeJoin.joinStatus(caller, ticketId(req)));
      },
    },
  ];
}
