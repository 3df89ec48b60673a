import type { Request } from 'express';
import { z } from 'zod';
import { vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { PullCredentialService } from '../services/pull-credentials.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam as param } from './params.ts';

const VdcParams = z.strictObject({ id: vdcIdSchema });
/** Body of the rotation: none (an empty object is accepted). */
const RotateSchema = z.strictObject({});

/**
 * A VDC's image pull credential: its metadata (any reader of the VDC) and its rotation (VDC admins, domain admins
 * of its domain and operations admins: `vdc:members`, who manage access to the VDC).
 */
export function pullCredentialRoutes(service: PullCredentialService): RouteDef[] {
  const vdcId = (req: Request): string => param(req, 'id', vdcIdSchema);
  const ofVdc = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await service.vdcScope(vdcId(req))) });
  return [
    {
      method: 'get',
      path: '/vdcs/:id/pull-credential',
      input: { params: VdcParams, summary: "The VDC's image pull credential: Secret name, username, last rotation (never the secret)" },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json(await service.get(vdcId(req))),
    },
    {
      method: 'post',
      path: '/vdcs/:id/pull-credential/rotate',
      input: {
        params: VdcParams,
        body: RotateSchema,
        bodyOptional: true,
        summary: "Rotate the VDC's image pull credential and rewrite the pull Secret in every namespace of the VDC",
      },
      permission: 'vdc:members',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        parse(RotateSchema, req.body ?? {});
        res.status(202).json(await service.rotate(caller, vdcId(req), metaOf(req)));
      },
    },
  ];
}
