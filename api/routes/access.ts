import type { Request } from 'express';
import { z } from 'zod';
import {
  CreateRoleSchema,
  customRoleId,
  CUSTOM_ROLE_PREFIX,
  GrantBindingSchema,
  PatchRoleSchema,
  PutBindingsSchema,
  roleSlugSchema,
} from '../../common/tenancy.ts';
import { NotFoundError, parse } from '../errors.ts';
import type { AccessService } from '../services/access.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam, SubParam } from './params.ts';

/** `/roles/custom:auditor` or `/roles/auditor`; anything else cannot exist (404). */
function roleId(req: Request): `custom:${string}` {
  const raw = String(req.params.id ?? '');
  const slug = raw.startsWith(CUSTOM_ROLE_PREFIX) ? raw.slice(CUSTOM_ROLE_PREFIX.length) : raw;
  if (!roleSlugSchema.safeParse(slug).success) throw new NotFoundError(`no role ${raw}`);
  return customRoleId(slug);
}

const sub = (req: Request): string => pathParam(req, 'sub', SubParam);
const UserParams = z.strictObject({ sub: SubParam });
/** A custom role's id, with or without its `custom:` prefix. */
const RoleParams = z.strictObject({
  id: z
    .string()
    .max(CUSTOM_ROLE_PREFIX.length + 40)
    .regex(/^(custom:)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
});

/** Users' role bindings at any scope, and custom roles (platform administration). */
export function accessRoutes(access: AccessService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/users',
      permission: 'role:write',
      target: 'platform',
      handler: async (_req, res) => void res.json({ items: await access.listUsers(), pending: await access.listPending() }),
    },
    {
      method: 'post',
      path: '/bindings',
      input: { body: GrantBindingSchema, summary: 'Grant one binding to a user named by username or email (an unknown email becomes a pending invitation)' },
      permission: 'role:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const result = await access.grantByName(caller, parse(GrantBindingSchema, req.body), metaOf(req));
        res.status('pending' in result ? 202 : 200).json(result);
      },
    },
    {
      method: 'put',
      path: '/users/:sub/bindings',
      input: { params: UserParams, body: PutBindingsSchema },
      permission: 'role:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const body = parse(PutBindingsSchema, req.body);
        res.json(await access.putBindings(caller, sub(req), body.bindings, metaOf(req)));
      },
    },
    {
      method: 'get',
      path: '/roles',
      permission: 'signed-in',
      target: 'any',
      handler: async (_req, res) => void res.json({ items: await access.listRoles() }),
    },
    {
      method: 'post',
      path: '/roles',
      input: { body: CreateRoleSchema },
      permission: 'role:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        const role = await access.createRole(caller, parse(CreateRoleSchema, req.body), metaOf(req));
        res.status(201).location(`/api/roles/${role.id}`).json(role);
      },
    },
    {
      method: 'patch',
      path: '/roles/:id',
      input: { params: RoleParams, body: PatchRoleSchema },
      permission: 'role:write',
      target: 'platform',
      handler: async (req, res, { caller }) => void res.json(await access.updateRole(caller, roleId(req), parse(PatchRoleSchema, req.body), metaOf(req))),
    },
    {
      method: 'delete',
      path: '/roles/:id',
      input: { params: RoleParams },
      permission: 'role:write',
      target: 'platform',
      handler: async (req, res, { caller }) => {
        await access.deleteRole(caller, roleId(req), metaOf(req));
        res.status(204).end();
      },
    },
  ];
}
