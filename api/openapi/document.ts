import { z } from 'zod';
import type { RouteDef } from '../routes/define.ts';

/** A JSON Schema (draft 2020-12) as `z.toJSONSchema` produces it. */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
}
export interface OpenApiOperation {
  operationId: string;
  summary?: string;
  'x-permission': string;
  'x-target': 'platform' | 'any' | 'object';
  /** The query schema refuses parameters it does not name (a strict zod object). */
  'x-strict-query'?: boolean;
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, unknown>;
}
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
  security: Record<string, string[]>[];
}

/**
 * The input side of a schema (what a client sends: defaults optional, transforms described by their
 * input). Checks JSON Schema cannot express (zod refinements, custom checks) become `{}` / are left out,
 * so the document is never stricter than the API, only sometimes looser.
 */
export function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** Express `/tickets/:id` → OpenAPI `/tickets/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parametersOf(def: RouteDef): OpenApiParameter[] {
  const out: OpenApiParameter[] = [];
  for (const [where, obj] of [
    ['path', def.input?.params],
    ['query', def.input?.query],
  ] as const) {
    if (!obj) continue;
    const json = inputSchema(obj) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema });
    }
  }
  // A path parameter the route does not declare still exists (the document must name every one).
  for (const m of def.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    if (!out.some((p) => p.in === 'path' && p.name === m[1])) out.push({ name: m[1]!, in: 'path', required: true, schema: { type: 'string' } });
  }
  return out;
}

const PROBLEM: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `errors` names the offending fields',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } }, required: ['field', 'message'] },
    },
  },
  required: ['type', 'title', 'status'],
};
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/**
 * The OpenAPI 3.1 document of the `/api` routes, generated from their `RouteDef`s: path, method, the
 * permission and where it must hold, and the zod schemas the handlers parse with. Served by
 * `GET /api/openapi.json`; the fuzzer (`api/fuzz/`) builds its requests from it.
 */
export function buildOpenApi(routes: readonly RouteDef[], opts: { version: string; serverUrl?: string } = { version: '0' }): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const def of routes) {
    const path = openApiPath(def.path);
    const op: OpenApiOperation = {
      operationId: `${def.method}${def.path.replace(/[/:]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      ...(def.input?.summary ? { summary: def.input.summary } : {}),
      'x-permission': def.permission,
      'x-target': typeof def.target === 'function' ? 'object' : def.target,
      ...(def.input?.query && inputSchema(def.input.query).additionalProperties === false ? { 'x-strict-query': true } : {}),
      parameters: parametersOf(def),
      ...(def.input?.body
        ? { requestBody: { required: !def.input.bodyOptional, content: { 'application/json': { schema: inputSchema(def.input.body) } } } }
        : {}),
      responses: {
        '2XX': { description: 'success' },
        '400': problem('invalid input (the problem body names each field)'),
        '401': problem('not signed in'),
        '403': problem('signed in, but without the permission'),
        '404': problem('no such object, or not visible to the caller'),
        '409': problem('the object is in a state that does not allow this'),
        '413': problem('request body too large'),
        '422': problem('refused by policy'),
      },
    };
    (paths[path] ??= {})[def.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Edgeport API',
      version: opts.version,
      description: 'Generated from the route definitions and their zod schemas (api/openapi/document.ts).',
    },
    servers: [{ url: `${opts.serverUrl ?? ''}/api` }],
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'edgeport.sid', description: 'portal session (OIDC login at /auth/login)' },
        apiToken: { type: 'http', scheme: 'bearer', description: 'API token `ep_…` (POST /api/tokens)' },
      },
    },
    security: [{ session: [] }, { apiToken: [] }],
  };
}
