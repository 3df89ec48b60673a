import { PutBudgetSchema } from '../../common/budget.ts';
import type { Request } from 'express';
import { z } from 'zod';
import { CreateDomainSchema, CreateVdcSchema, domainIdSchema, PutMemberSchema, PutVdcLabelsSchema, vdcIdSchema } from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { TenancyService } from '../services/tenancy.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam as param, SubParam } from './params.ts';

const DomainParams = z.strictObject({ id: domainIdSchema });
const VdcParams = z.strictObject({ id: vdcIdSchema });
/** Body of `POST /api/vdcs/:id/provision`: none (an empty object is accepted). */
const ProvisionVdcSchema = z.strictObject({});
const MemberParams = z.strictObject({ id: vdcIdSchema, sub: SubParam });

/** Domains, VDCs and VDC members (the tenancy admin API). */
export function tenancyRoutes(tenancy: TenancyService): RouteDef[] {
  const domainId = (req: Request): string => param(req, 'id', domainIdSchema);
  const vdcId = (req: Request): string => param(req, 'id', vdcIdSchema);
  const sub = (req: Request): string => param(req, 'sub', SubParam);
  const ofDomain = async (req: Request): Promise<Target> => ({ kind: 'domain', ...(await tenancy.domainScope(domainId(req))) });
  const ofVdc = async (req: Request): Promise<Target> => ({ kind: 'vdc', ...(await tenancy.vdcScope(vdcId(req))) });
  return [
    {
      method: 'get',
      path: '/domains',
      permission: 'domain:read',
      target: 'any',
      handler: async (_req, res, { caller }) => void res.json({ items: await tenancy.listDomains(caller) }),
    },
    {
      method: 'post',
      path: '/domains',
      input: { body: CreateDomainSchema },
      permission: 'domain:create',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const domain = await tenancy.createDomain(caller, parse(CreateDomainSchema, req.body), metaOf(req));
        res.status(201).location(`/api/domains/${domain.id}`).json(domain);
      },
    },
    {
      method: 'get',
      path: '/domains/:id',
      input: { params: DomainParams },
      permission: 'domain:read',
      target: ofDomain,
      handler: async (req, res, { caller }) => void res.json(await tenancy.getDomain(caller, domainId(req))),
    },
    {
      method: 'delete',
      path: '/domains/:id',
      input: { params: DomainParams },
      permission: 'domain:create',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        await tenancy.deleteDomain(caller, domainId(req), metaOf(req));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/domains/:id/vdcs',
      input: { params: DomainParams, body: CreateVdcSchema },
      permission: 'vdc:create',
      target: ofDomain,
      handler: async (req, res, { caller }) => {
        const vdc = await tenancy.createVdc(caller, domainId(req), parse(CreateVdcSchema, req.body), metaOf(req));
        res.status(201).location(`/api/vdcs/${vdc.id}`).json(vdc);
      },
    },
    {
      method: 'get',
      path: '/vdcs/:id',
      input: { params: VdcParams },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json(await tenancy.getVdc(vdcId(req))),
    },
    {
      method: 'put',
      path: '/vdcs/:id/budget',
      input: { params: VdcParams, body: PutBudgetSchema },
      permission: 'vdc:create',
      target: ofVdc,
      handler: async (req, res, { caller }) => void res.json(await tenancy.setBudget(caller, vdcId(req), parse(PutBudgetSchema, req.body), metaOf(req))),
    },
    {
      method: 'put',
      path: '/vdcs/:id/labels',
      input: { params: VdcParams, body: PutVdcLabelsSchema, summary: 'Replace the billing labels of a VDC' },
      permission: 'vdc:create',
      target: ofVdc,
      handler: async (req, res, { caller }) => void res.json(await tenancy.setLabels(caller, vdcId(req), parse(PutVdcLabelsSchema, req.body), metaOf(req))),
    },
    {
      method: 'delete',
      path: '/vdcs/:id',
      input: { params: VdcParams },
      permission: 'vdc:create',
      target: ofVdc,
      handler: async (req, res, { caller }) => void res.status(202).json(await tenancy.deleteVdc(caller, vdcId(req), metaOf(req))),
    },
    {
      method: 'post',
      path: '/vdcs/:id/provision',
      input: { params: VdcParams, body: ProvisionVdcSchema, bodyOptional: true, summary: 'Re-run the provisioning of a VDC on its pools (retry after failed, or resync)' },
      permission: 'vdc:create',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        parse(ProvisionVdcSchema, req.body ?? {});
        res.status(202).json(await tenancy.provisionVdc(caller, vdcId(req), metaOf(req)));
      },
    },
    {
      method: 'get',
      path: '/vdcs/:id/members',
      input: { params: VdcParams },
      permission: 'vdc:read',
      target: ofVdc,
      handler: async (req, res) => void res.json({ items: await tenancy.listMembers(vdcId(req)) }),
    },
    {
      method: 'put',
      path: '/vdcs/:id/members/:sub',
      input: { params: MemberParams, body: PutMemberSchema },
      permission: 'vdc:members',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        const body = parse(PutMemberSchema, req.body);
        res.json(await tenancy.putMember(caller, vdcId(req), sub(req), body.roles, metaOf(req)));
      },
    },
    {
      method: 'delete',
      path: '/vdcs/:id/members/:sub',
      input: { params: MemberParams },
      permission: 'vdc:members',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        await tenancy.removeMember(caller, vdcId(req), sub(req), metaOf(req));
        res.status(204).end();
      },
    },
  ];
}
