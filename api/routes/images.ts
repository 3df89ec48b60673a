import { z } from 'zod';
import { parse } from '../errors.ts';
import type { ImageService } from '../services/images.ts';
import type { RouteDef } from './define.ts';
import { metaOf } from './params.ts';

const repository = z
  .string()
  .min(3)
  .max(255)
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/, 'must be <namespace>/<name>');
const reference = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|sha256:[0-9a-f]{64})$/, 'must be a tag or a sha256 digest');
const tag = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'must be a tag');

const DetailQuery = z.object({ repository, reference });
const ScanBody = z.strictObject({ repository, reference });
const TagQuery = z.object({ repository, tag });
const RepositoryQuery = z.object({ repository });

/**
 * Image detail, on-demand scan, tag and repository deletion. Repository names contain `/`, so they travel as
 * query parameters. Each authorizes per repository in the service (pull rights; delete: the VDC's admins or an
 * operations admin), answering 404 for what the caller may not see or manage, so the routes are `signed-in`.
 */
export function imageRoutes(images: ImageService): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/images/detail',
      permission: 'signed-in',
      target: 'any',
      input: { query: DetailQuery, summary: 'One image: digest, size, architectures, layers, tags, pull reference, last scan' },
      handler: async (req, res, { caller }) => {
        const q = parse(DetailQuery, req.query);
        res.json(await images.detail(caller, q.repository, q.reference));
      },
    },
    {
      method: 'post',
      path: '/images/scans',
      permission: 'signed-in',
      target: 'any',
      input: { body: ScanBody, summary: 'Scan an image now (local scanner) and store the result' },
      handler: async (req, res, { caller }) => {
        const b = parse(ScanBody, req.body);
        res.status(201).json(await images.scan(caller, b.repository, b.reference));
      },
    },
    {
      method: 'delete',
      path: '/images/tags',
      permission: 'signed-in',
      target: 'any',
      input: { query: TagQuery, summary: 'Delete a tag (VDC admins of its VDC, operations admins)' },
      handler: async (req, res, { caller }) => {
        const q = parse(TagQuery, req.query);
        await images.deleteTag(caller, q.repository, q.tag, metaOf(req));
        res.status(204).end();
      },
    },
    {
      method: 'delete',
      path: '/images/repositories',
      permission: 'signed-in',
      target: 'any',
      input: { query: RepositoryQuery, summary: 'Delete a repository (VDC admins of its VDC, operations admins)' },
      handler: async (req, res, { caller }) => {
        const q = parse(RepositoryQuery, req.query);
        await images.deleteRepository(caller, q.repository, metaOf(req));
        res.status(204).end();
      },
    },
  ];
}
