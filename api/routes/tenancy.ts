import { PutBudgetSchema } from '../../common/budget.ts';
import type { Request } from 'express';
import { z } from 'zod';
import {
  AddMemberSchema,
  CreateDomainSchema,
  CreateVdcSchema,
  domainIdSchema,
  PutMemberSchema,
  PutVdcLabelsSchema,
  UserSearchQuerySchema,
  vdcIdSchema,
} from '../../common/tenancy.ts';
import type { Target } from '../authz.ts';
import { parse } from '../errors.ts';
import type { TenancyService } from '../services/tenancy.ts';
import { seesAllUsers, type UserDirectory } from '../services/user-directory.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam as param, SubParam } from './params.ts';

const DomainParams = z.strictObject({ id: domainIdSchema });
const VdcParams = z.strictObject({ id: vdcIdSchema });
/** Body of `POST /api/vdcs/:id/provision`: none (an empty object is accepted). */
const ProvisionVdcSchema = z.strictObject({});
const MemberParams = z.strictObject({ id: vdcIdSchema, sub: SubParam });
const PendingEmail = z.email().max(254);
const PendingMemberParams = z.strictObject({ id: vdcIdSchema, email: PendingEmail });

/** Domains, VDCs and VDC members (the tenancy admin API). */
export function tenancyRoutes(tenancy: TenancyService, directory: UserDirectory): RouteDef[] {
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
      input: {
        params: VdcParams,
        body: ProvisionVdcSchema,
        bodyOptional: true,
        summary: 'Re-run the provisioning of a VDC on its pools (retry after failed, or resync)',
      },
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
    {
      method: 'post',
      path: '/vdcs/:id/members',
      input: { params: VdcParams, body: AddMemberSchema, summary: 'Add a member by username or email (an unknown email becomes a pending invitation)' },
      permission: 'vdc:members',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        const body = parse(AddMemberSchema, req.body);
        const { member, created } = await tenancy.addMember(caller, vdcId(req), body.user, body.roles, metaOf(req));
        if (!member.pending) res.location(`/api/vdcs/${vdcId(req)}/members/${encodeURIComponent(member.sub)}`);
        res.status(created ? 201 : 200).json(member);
      },
    },
    {
      method: 'delete',
      path: '/vdcs/:id/pending-members/:email',
      input: { params: PendingMemberParams, summary: 'Withdraw a pending invitation by email' },
      permission: 'vdc:members',
      target: ofVdc,
      handler: async (req, res, { caller }) => {
        await tenancy.removePendingMember(caller, vdcId(req), param(req, 'email', PendingEmail), metaOf(req));
        res.status(204).end();
      },
    },
    {
      method: 'get',
      path: '/users/search',
      input: {
        query: UserSearchQuerySchema,
        summary: 'Users who signed in, by part of their username, name or email (for adding members); for VDC members managers by whole username or email only',
      },
      // With `vdc`: the members managers of that VDC; without: platform-wide member managers (operations admins).
      permission: 'vdc:members',
      target: async (req) => {
        const raw = req.query.vdc;
        if (raw === undefined) return { kind: 'platform' };
        return { kind: 'vdc', ...(await tenancy.vdcScope(typeof raw === 'string' && vdcIdSchema.safeParse(raw).success ? raw : '')) };
      },
      // Fragments with names and emails only for callers who see every user anyway; a VDC's members manager gets
      // the user of a whole username or email it typed, as username and sub (README "Members").
      handler: async (req, res, { caller }) => {
        const { q } = parse(UserSearchQuerySchema, req.query);
        res.set('Cache-Control', 'no-store').json({ items: seesAllUsers(caller) ? await directory.search(q) : await directory.lookup(q) });
      },
    },
  ];
}
