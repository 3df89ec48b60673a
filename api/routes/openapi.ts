import { buildOpenApi, type OpenApiDocument } from '../openapi/document.ts';
import type { RouteDef } from './define.ts';

/**
 * `GET /api/openapi.json`: the OpenAPI document of every mounted `/api` route (this one included), built
 * once from `routes` on first request. Signed-in users only: it describes what exists, not what they may do.
 */
export function openApiRoutes(routes: readonly RouteDef[], version: string): RouteDef[] {
  let doc: OpenApiDocument | undefined;
  return [
    {
      method: 'get',
      path: '/openapi.json',
      permission: 'signed-in',
      target: 'any',
      input: { summary: 'This document' },
      handler: async (_req, res) => {
        doc ??= buildOpenApi(routes, { version });
        res.set('Cache-Control', 'no-cache').json(doc);
      },
    },
  ];
}
