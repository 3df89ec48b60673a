import type { Request } from 'express';
import { z } from 'zod';
import { vdcIdSchema } from '../../common/tenancy.ts';
import { CreateVolumeSchema, ExpandVolumeSchema, volumeNameSchema } from '../../common/volumes.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { VolumeService } from '../services/volumes.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam as param } from './params.ts';

const VdcParams = z.strictObject({ id: vdcIdSchema });
const VolumeParams = z.strictObject({ id: vdcIdSchema, name: volumeNameSchema });

/** Standalone volumes (PVCs) of a VDC (issue 11). */
export function volumeRoutes(volumes: VolumeService): RouteDef[] {
  const vdcId = (req: Request): string => param(req, 'id', vdcIdSchema);
  const name = (req: Request): string => param(req, 'name', volumeNameSchema);
  const ofVdc = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await volumes.vdcScope(vdcId(req))) });
  return [
    {
      method: 'get',
      path: '/vdcs/:id/volumes',
      input: { params: VdcParams, summary: 'Volumes of the VDC with size, phase and who mounts them' },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await volumes.list(vdcId(req)) }),
    },
    {
      method: 'post',
      path: '/vdcs/:id/volumes',
      input: { params: VdcParams, body: CreateVolumeSchema, summary: 'Create a standalone volume' },
      permission: 'volume:write',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        const v = await volumes.create(caller, vdcId(req), parse(CreateVolumeSchema, req.body), metaOf(req));
        res.status(201).location(`/api/vdcs/${v.vdcId}/volumes/${v.name}`).json(v);
      },
    },
    {
      method: 'post',
      path: '/vdcs/:id/volumes/:name/expand',
      input: { params: VolumeParams, body: ExpandVolumeSchema, summary: 'Grow a standalone volume' },
      permission: 'volume:write',
      target: ofVdc,
      handler: async (req, res, { caller }) =>
        void res.json(await volumes.expand(caller, vdcId(req), name(req), parse(ExpandVolumeSchema, req.body), metaOf(req))),
    },
    {
      method: 'delete',
      path: '/vdcs/:id/volumes/:name',
      input: { params: VolumeParams, summary: 'Delete a standalone volume nothing mounts (storage rule volume-in-use)' },
      permission: 'volume:write',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        await volumes.remove(caller, vdcId(req), name(req), metaOf(req));
        res.status(204).end();
      },
    },
  ];
}
