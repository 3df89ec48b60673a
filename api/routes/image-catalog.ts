import { z } from 'zod';
import { displayText } from '../../common/display-text.ts';
import { parse } from '../errors.ts';
import type { ImageCatalogService } from '../services/image-catalog.ts';
import type { RouteDef } from './define.ts';
import { metaOf, pathParam } from './params.ts';

const repository = z
  .string()
  .min(3)
  .max(255)
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/, 'must be <namespace>/<name>');
const name = displayText({ max: 60 });
const categoryId = z.string().regex(/^cat-[0-9a-f]{12}$/, 'must be a category id');

const ListQuery = z.object({ vdcId: z.string().min(1).max(63).optional() });
const CreateBody = z.strictObject({ name, vdcId: z.string().min(1).max(63).optional() });
const RenameBody = z.strictObject({ name });
const IdParams = z.object({ id: categoryId });
const AssignBody = z.strictObject({ repository, categoryIds: z.array(categoryId).max(50) });

/**
 * Browsing categories of image repositories (platform-wide or per VDC) and which repositories are in them.
 * Authorized per category and repository in the service (404 for what the caller may not see), so `signed-in`.
 */
export function imageCatalogRoutes(catalog: ImageCatalogService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/images/categories',
      permission: 'signed-in',
      target: 'any',
      input: { query: ListQuery, summary: 'Image categories the caller sees, with the repositories they may pull' },
      handler: async (req, res, { caller }) => {
        const q = parse(ListQuery, req.query);
        res.json({ items: await catalog.list(caller, q.vdcId === undefined ? {} : { vdcId: q.vdcId }) });
      },
    },
    {
      method: 'post',
      path: '/images/categories',
      permission: 'signed-in',
      target: 'any',
      input: { body: CreateBody, summary: 'Create a category (platform: operations admins; a VDC: its admins)' },
      handler: async (req, res, { caller }) => {
        const b = parse(CreateBody, req.body);
        res.status(201).json(await catalog.create(caller, b, metaOf(req)));
      },
    },
    {
      method: 'patch',
      path: '/images/categories/:id',
      permission: 'signed-in',
      target: 'any',
      input: { params: IdParams, body: RenameBody, summary: 'Rename a category' },
      handler: async (req, res, { caller }) => {
        const id = pathParam(req, 'id', categoryId);
        const b = parse(RenameBody, req.body);
        res.json(await catalog.rename(caller, id, b.name, metaOf(req)));
      },
    },
    {
      method: 'delete',
      path: '/images/categories/:id',
      permission: 'signed-in',
      target: 'any',
      input: { params: IdParams, summary: 'Delete a category (its repositories stay)' },
      handler: async (req, res, { caller }) => {
        await catalog.remove(caller, pathParam(req, 'id', categoryId), metaOf(req));
        res.status(204).end();
      },
    },
    {
      method: 'put',
      path: '/images/repository-categories',
      permission: 'signed-in',
      target: 'any',
      input: { body: AssignBody, summary: 'Set the categories of a repository (those who may manage it)' },
      handler: async (req, res, { caller }) => {
        const b = parse(AssignBody, req.body);
        res.json({ items: await catalog.setRepositoryCategories(caller, b.repository, b.categoryIds, metaOf(req)) });
      },
    },
  ];
}
