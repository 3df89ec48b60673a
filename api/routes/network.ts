import type { Request } from 'express';
import { z } from 'zod';
import {
  ChangeMembersSchema,
  CreateSecurityGroupSchema,
  PutSpaceNetworkDefaultSchema,
  securityGroupIdSchema,
  UpdateSecurityGroupSchema,
} from '../../common/network.ts';
import { vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { NetworkService } from '../services/network.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam as param } from './params.ts';

const spaceSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
const VdcParams = z.strictObject({ id: vdcIdSchema });
const GroupParams = z.strictObject({ id: vdcIdSchema, gid: securityGroupIdSchema });
const SpaceParams = z.strictObject({ id: vdcIdSchema, space: spaceSchema });

/** Security groups of a VDC and the default network policy of its spaces (issue 11). */
export function networkRoutes(network: NetworkService): RouteDef[] {
  const vdcId = (req: Request): string => param(req, 'id', vdcIdSchema);
  const gid = (req: Request): string => param(req, 'gid', securityGroupIdSchema);
  const space = (req: Request): string => param(req, 'space', spaceSchema);
  const ofVdc = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await network.vdcScope(vdcId(req))) });
  return [
    {
      method: 'get',
      path: '/vdcs/:id/security-groups',
      input: { params: VdcParams, summary: 'Security groups of the VDC' },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await network.list(vdcId(req)) }),
    },
    {
      method: 'post',
      path: '/vdcs/:id/security-groups',
      input: { params: VdcParams, body: CreateSecurityGroupSchema, summary: 'Create a security group' },
      permission: 'network:write',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        const g = await network.create(caller, vdcId(req), parse(CreateSecurityGroupSchema, req.body), metaOf(req));
        res.status(201).location(`/api/vdcs/${g.vdcId}/security-groups/${g.id}`).json(g);
      },
    },
    {
      method: 'get',
      path: '/vdcs/:id/security-groups/:gid',
      input: { params: GroupParams },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json(await network.get(vdcId(req), gid(req))),
    },
    {
      method: 'put',
      path: '/vdcs/:id/security-groups/:gid',
      input: { params: GroupParams, body: UpdateSecurityGroupSchema, summary: "Replace a security group's rules (applied at once)" },
      permission: 'network:write',
      target: ofVdc,
      handler: async (req, res, { caller }) =>
        void res.json(await network.update(caller, vdcId(req), gid(req), parse(UpdateSecurityGroupSchema, req.body), metaOf(req))),
    },
    {
      method: 'delete',
      path: '/vdcs/:id/security-groups/:gid',
      input: { params: GroupParams },
      permission: 'network:write',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        await network.remove(caller, vdcId(req), gid(req), metaOf(req));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/vdcs/:id/security-groups/:gid/members',
      input: { params: GroupParams, body: ChangeMembersSchema, summary: 'Add and remove member workloads in one change' },
      permission: 'network:write',
      target: ofVdc,
      handler: async (req, res, { caller }) =>
        void res.json(await network.changeMembers(caller, vdcId(req), gid(req), parse(ChangeMembersSchema, req.body), metaOf(req))),
    },
    {
      method: 'get',
      path: '/vdcs/:id/security-groups/:gid/policies',
      input: { params: GroupParams, summary: 'The NetworkPolicies rendered for the group, read back from the cluster' },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await network.policies(vdcId(req), gid(req)) }),
    },
    {
      method: 'get',
      path: '/vdcs/:id/network-defaults',
      input: { params: VdcParams, summary: 'Default ingress policy of each application space' },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await network.spaceDefaults(vdcId(req)) }),
    },
    {
      method: 'put',
      path: '/vdcs/:id/network-defaults/:space',
      input: { params: SpaceParams, body: PutSpaceNetworkDefaultSchema, summary: "Set a space's default ingress policy" },
      permission: 'network:write',
      target: ofVdc,
      handler: async (req, res, { caller }) =>
        void res.json(await network.setSpaceDefault(caller, vdcId(req), space(req), parse(PutSpaceNetworkDefaultSchema, req.body).policy, metaOf(req))),
    },
  ];
}
