import { z } from 'zod';
import { CertSubjectSchema } from '../../common/identity.ts';
import { parse } from '../errors.ts';
import type { CertSubjectService } from '../services/cert-subjects.ts';
import type { RouteDef } from './define.ts';

const SubParam = z.strictObject({ sub: z.string().min(1).max(255) });

/** Binding a client-certificate subject to a user changes how they authenticate: platform role administrators only. */
export function certSubjectRoutes(certs: CertSubjectService): RouteDef[] {
  return [
    {
      method: 'put',
      path: '/users/:sub/cert-subject',
      input: { params: SubParam, body: CertSubjectSchema },
      permission: 'role:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const { sub } = parse(SubParam, req.params);
        res.json(await certs.set(caller, sub, parse(CertSubjectSchema, req.body), req.ip));
      },
    },
  ];
}
