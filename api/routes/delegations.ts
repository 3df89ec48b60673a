import type { Request } from 'express';
import { z } from 'zod';
import { PutDelegationSchema } from '../../common/delegations.ts';
import { NotFoundError, parse } from '../errors.ts';
import type { DelegationService } from '../services/delegations.ts';
import type { RouteDef } from './define.ts';

const IdParam = z.strictObject({ id: z.uuid() });
/** A malformed id cannot exist: 404 (an unknown well-formed id is an idempotent 204). */
const delegationId = (req: Request): string => {
  const r = IdParam.safeParse(req.params);
  if (!r.success) throw new NotFoundError();
  return r.data.id;
};

/** An approver's own delegations: anyone who may decide requests somewhere may name a delegate. */
export function delegationRoutes(delegations: DelegationService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/delegations',
      permission: 'ticket:decide',
      target: 'any',
      handler: async (_req, res, { caller }) => void res.json({ items: await delegations.list(caller) }),
    },
    {
      method: 'put',
      path: '/delegations',
      input: { body: PutDelegationSchema },
      permission: 'ticket:decide',
      target: 'any',
      handler: async (req, res, { caller }) => {
        const { delegation, created } = await delegations.put(caller, parse(PutDelegationSchema, req.body), req.ip);
        res
          .status(created ? 201 : 200)
          .location(`/api/delegations/${delegation.id}`)
          .json(delegation);
      },
    },
    {
      method: 'delete',
      path: '/delegations/:id',
      input: { params: IdParam },
      permission: 'ticket:decide',
      target: 'any',
      handler: async (req, res, { caller }) => {
        // Idempotent: 204 whether or not the caller had such a delegation.
        await delegations.remove(caller, delegationId(req), req.ip);
        res.status(204).end();
      },
    },
  ];
}
