import { parse as parseQuery } from 'node:querystring';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import type { JsonSchema, OpenApiOperation } from '../openapi/document.ts';

/**
 * Bad-input requests built from the OpenAPI document (`GET /api/openapi.json`): for each operation,
 * fast-check arbitraries of malformed JSON, wrong types, huge strings and arrays, unicode, NoSQL operators,
 * YAML bombs and path traversal, placed where the operation's schemas say its input goes. An oracle
 * (Ajv over the same schemas) says whether a request is invalid by the document; the fuzzer sends only
 * requests it can classify.
 */

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One operation with path parameter values that exist (so bad bodies and queries reach validation). */
export interface FuzzTarget {
  method: Method;
  /** OpenAPI path, `/tickets/{id}`. */
  path: string;
  op: OpenApiOperation;
  params: Record<string, string>;
}

export const CATEGORIES = ['malformed-json', 'body-type', 'body-schema', 'non-json-body', 'query-schema', 'query-injection', 'path-param'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface FuzzRequest {
  method: Method;
  /** Path below `/api` with the query string. */
  url: string;
  body?: string;
  contentType?: string;
  category: Category;
}

/** What the document says about a request: invalid (must be a 4xx problem) or input the route ignores. */
export type Verdict = { invalid: true; why: string } | { invalid: false };

// ---------------------------------------------------------------- nasty values

const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
].join('\n');
/** A workload "spec" as a YAML document whose aliases expand to 9^9 strings. */
export const YAML_BOMB = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bomb\n${BILLION_LAUGHS}\n`;

const TRAVERSAL = [
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '..\\..\\windows\\win.ini',
  '/etc/shadow',
  'a/../../b',
  '%2e%2e%2f%2e%2e%2f',
  '....//....//',
  'vdc-x/../kube-system',
  '\u0000../x',
  'file:///etc/passwd',
];
const NOSQL: unknown[] = [{ $gt: '' }, { $ne: null }, { $where: 'sleep(1000)' }, { $regex: '.*' }, { $in: [] }, { $exists: true }, { $expr: { $eq: [1, 1] } }];
const INJECTION = [
  "'; DROP TABLE tickets; --",
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '$(id)',
  '`id`',
  'x\r\nSet-Cookie: a=b',
  '%00',
  '__proto__',
  'constructor',
];
const UNICODE_SAMPLES = ['\u202eevil\u202c', 'a\u200bb', '𝕰𝖉𝖌𝖊', '名称-中文', '\ud800', '\uffff', 'e\u0301', '🏳️‍🌈'.repeat(50), 'İ', 'ǅ'];

const hugeString = fc.constantFrom(70_000, 120_000, 300_000).map((n) => 'x'.repeat(n));
const unicodeString = fc.oneof(
  fc.constantFrom(...UNICODE_SAMPLES),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
);

/** A JSON value meant to be wrong wherever it lands. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1e308, -1e-308, 2 ** 53 + 1, 1.5, '', [], {}),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 20 }),
  hugeString,
  fc.constantFrom(10_000, 60_000).map((n) => Array.from({ length: n }, (_v, i) => i)),
  unicodeString,
  fc.constantFrom(...NOSQL),
  fc.constantFrom(...TRAVERSAL),
  fc.constantFrom(...INJECTION),
  fc.constant(YAML_BOMB),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Raw request bodies that are not JSON, or are JSON only for a lenient parser. */
const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{"a":NaN}',
    '{"a":Infinity}',
    '[1,2',
    'undefined',
    '\ufeff{"a":1',
    '{"a":"\\x41"}',
    '{"a":01}',
    '{"a":1}}',
    '"unterminated',
    '\u0000',
  ),
  fc.constantFrom(20_000, 100_000).map((n) => '['.repeat(n) + ']'.repeat(n - 1)),
  fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !isJson(s)),
  fc
    .json()
    .map((s) => `${s}}`)
    .filter((s) => !isJson(s)),
);

/** Whole bodies of a wrong top-level type (valid JSON). */
const wrongTopLevel: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, 0, 'x', true, [], [{}], YAML_BOMB),
  fc.constantFrom(...NOSQL),
  fc.constant(Array.from({ length: 50_000 }, () => ({ $gt: '' }))),
);
/** Deeply nested JSON under the 256 kB limit (as text: JSON.stringify would overflow the stack on it). */
const deepJson: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(1_000, 60_000), fc.constantFrom('[', '{"a":'))
  .map(([n, open]) => open.repeat(n) + (open === '[' ? ']' : '1}').repeat(n));

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- plausible values from a schema

const FORMAT_SAMPLES: Record<string, fc.Arbitrary<string>> = {
  'date-time': fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  date: fc.constantFrom('2024-01-31', '2025-06-01'),
  uuid: fc.uuid({ version: 4 }),
  uri: fc.constantFrom('https://127.0.0.1:6443', 'https://kube.example.test'),
  email: fc.constantFrom('a@example.test'),
};

/** Values shaped like the schema wants (best effort: refinements JSON Schema cannot state are not met). */
interface SchemaView {
  const?: unknown;
  enum?: unknown[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  type?: string | string[];
  minLength?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

export function plausible(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const s = schema as SchemaView;
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const alts = (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
  if (alts?.length) return fc.oneof(...alts.map((a) => plausible(a, depth)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': {
      const min = (s.minLength as number | undefined) ?? 0;
      const max = Math.min((s.maxLength as number | undefined) ?? 24, 64);
      if (typeof s.format === 'string' && FORMAT_SAMPLES[s.format]) return FORMAT_SAMPLES[s.format]!;
      if (typeof s.pattern === 'string') {
        const re = new RegExp(s.pattern as string);
        // fast-check cannot generate from every regex (lookahead, e.g. the label-key pattern): any string then.
        try {
          return fc.stringMatching(re).filter((v) => v.length >= min && v.length <= max);
        } catch {
          return fc.string({ minLength: min, maxLength: Math.max(min, max) });
        }
      }
      return fc.string({ minLength: min, maxLength: Math.max(min, max) });
    }
    case 'integer':
      return fc.integer({ min: Math.max((s.minimum as number | undefined) ?? 0, -1e6), max: Math.min((s.maximum as number | undefined) ?? 100, 1e6) });
    case 'number':
      return fc.integer({
        min: Math.ceil(Math.max((s.minimum as number | undefined) ?? 0, -1e6)),
        max: Math.floor(Math.min((s.maximum as number | undefined) ?? 100, 1e6)),
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (depth > 4) return fc.constant([]);
      const min = (s.minItems as number | undefined) ?? 0;
      return fc.array(s.items ? plausible(s.items as JsonSchema, depth + 1) : fc.string(), {
        minLength: min,
        maxLength: Math.min((s.maxItems as number | undefined) ?? min + 2, min + 2),
      });
    }
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      if (depth > 4) return fc.constant({});
      const required = new Set((s.required ?? []) as string[]);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = plausible(v, depth + 1);
      return fc.record(model, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

// ---------------------------------------------------------------- mutation

type Path = (string | number)[];

function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

function setAt(v: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? setAt(x, rest, value) : x));
  const o = { ...(v as Record<string, unknown>) };
  o[head as string] = setAt(o[head as string], rest, value);
  return o;
}

function addKeyAt(v: unknown, path: Path, key: string, value: unknown): unknown {
  if (path.length === 0) return v && typeof v === 'object' && !Array.isArray(v) ? { ...v, [key]: value } : v;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? addKeyAt(x, rest, key, value) : x));
  if (!v || typeof v !== 'object') return v;
  const o = { ...(v as Record<string, unknown>) };
  o[head as string] = addKeyAt(o[head as string], rest, key, value);
  return o;
}

const extraKey = fc.constantFrom('$where', '$gt', '__proto__', 'constructor', 'prototype', '../name', 'x'.repeat(300), '名称', '');

/** A schema-shaped body with one place made wrong: a nasty value, an unknown (operator) key, or a field dropped. */
function mutatedBody(schema: JsonSchema): fc.Arbitrary<unknown> {
  return plausible(schema).chain((sample) => {
    const paths = pathsOf(sample);
    return fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...paths), nastyValue).map(([p, v]) => setAt(sample, p, v)) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...paths), extraKey, nastyValue).map(([p, k, v]) => addKeyAt(sample, p, k, v)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...paths.filter((p) => p.length > 0 && typeof p.at(-1) === 'string'), []).map((p) => {
          if (p.length === 0) return [sample];
          const parentPath = p.slice(0, -1);
          const key = p.at(-1) as string;
          let parent = sample as Record<string, unknown>;
          for (const seg of parentPath) parent = (parent as never)[seg];
          const { [key]: _dropped, ...rest } = parent;
          return setAt(sample, parentPath, rest);
        }),
      },
    );
  });
}

// ---------------------------------------------------------------- requests per operation

/** encodeURIComponent, except that a lone surrogate (which it refuses) is sent as the replacement character. */
const enc = (s: string): string => encodeURIComponent(s.toWellFormed());
const MAX_QUERY = 8_000;
/** Percent-escapes that do not decode (bad UTF-8, truncated). */
const BAD_ESCAPES = ['%ED%A0%80', '%FF%FE', '%E0%A4%A', '%', '%zz', '%C0%AF'];

function pathWith(target: FuzzTarget, override: Record<string, string> = {}): string {
  return target.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => enc(override[name] ?? target.params[name] ?? 'x'));
}

const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '1e999', 'NaN', 'true', 'null', '[]', '{}', '%', '..', '2020-13-45', '9999999999999999999999'),
  hugeString.map((s) => s.slice(0, 6000)),
  unicodeString,
  fc.constantFrom(...TRAVERSAL, ...INJECTION),
  fc.string({ maxLength: 30 }),
);

/** A query string with NoSQL operators in brackets (`status[$ne]=x`), repeats, unknown keys or bad values. */
function queryFor(op: OpenApiOperation): fc.Arbitrary<string> {
  const names = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
  const name = names.length ? fc.constantFrom(...names) : fc.constantFrom('q', 'filter', 'id');
  const pair = fc.oneof(
    fc.tuple(name, queryValue).map(([k, v]) => `${enc(k)}=${enc(v)}`),
    fc.tuple(name, fc.constantFrom('$gt', '$ne', '$regex', '$where', '$in][', '__proto__'), queryValue).map(([k, o, v]) => `${enc(k)}[${o}]=${enc(v)}`),
    fc.tuple(name, queryValue, queryValue).map(([k, a, b]) => `${enc(k)}=${enc(a)}&${enc(k)}=${enc(b)}`),
    fc
      .tuple(fc.constantFrom('$where', '__proto__', 'constructor[prototype]', 'x'.repeat(200), '名称', '../x'), queryValue)
      .map(([k, v]) => `${enc(k)}=${enc(v)}`),
    fc.tuple(name, fc.constantFrom(...BAD_ESCAPES)).map(([k, v]) => `${enc(k)}=${v}`),
  );
  // Under Node's 16 kB header limit: longer request lines are refused by the HTTP parser (431) before the app sees them.
  return fc.array(pair, { minLength: 1, maxLength: 4 }).map((ps) => ps.join('&').slice(0, MAX_QUERY));
}

const badParam: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...TRAVERSAL,
    ...INJECTION.filter((s) => s !== '__proto__' && s !== 'constructor'),
    '{"$gt":""}',
    '[$ne]',
    'A_UPPER',
    '-lead',
    'trail-',
    'x'.repeat(300),
    'x'.repeat(3000),
  ),
  unicodeString,
  fc.string({ minLength: 1, maxLength: 30 }),
);

const hasBodyMethod = (m: Method): boolean => m === 'post' || m === 'put' || m === 'patch';

/** Every kind of bad request that fits the operation, as one arbitrary. */
export function badRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const { method, op } = target;
  const json = (category: Category) => (body: unknown) => ({
    method,
    url: pathWith(target),
    body: JSON.stringify(body),
    contentType: 'application/json',
    category,
  });
  const schema = op.requestBody?.content['application/json'].schema;
  const arbs: fc.Arbitrary<FuzzRequest>[] = [];
  if (hasBodyMethod(method)) {
    arbs.push(malformedJson.map((body) => ({ method, url: pathWith(target), body, contentType: 'application/json', category: 'malformed-json' as const })));
    arbs.push(wrongTopLevel.map(json('body-type')));
    arbs.push(deepJson.map((body) => ({ method, url: pathWith(target), body, contentType: 'application/json', category: 'body-type' as const })));
    arbs.push(
      fc
        .tuple(
          fc.constantFrom('application/yaml', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml'),
          fc.constantFrom(YAML_BOMB, 'vdcId[$gt]=&type=quota-change', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'),
        )
        .map(([contentType, body]) => ({ method, url: pathWith(target), body, contentType, category: 'non-json-body' as const })),
    );
    if (schema) arbs.push(mutatedBody(schema).map(json('body-schema')));
  }
  if (op.parameters.some((p) => p.in === 'query'))
    arbs.push(queryFor(op).map((q) => ({ method, url: `${pathWith(target)}?${q}`, category: 'query-schema' as const, ...bodyIfNeeded(target) })));
  else arbs.push(queryFor(op).map((q) => ({ method, url: `${pathWith(target)}?${q}`, category: 'query-injection' as const, ...bodyIfNeeded(target) })));
  const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  if (pathParams.length) {
    arbs.push(
      fc
        .tuple(fc.constantFrom(...pathParams), badParam)
        .map(([name, v]) => ({ method, url: pathWith(target, { [name]: v }), category: 'path-param' as const, ...bodyIfNeeded(target) })),
    );
    arbs.push(
      fc.tuple(fc.constantFrom(...pathParams), fc.constantFrom(...BAD_ESCAPES)).map(([name, v]) => ({
        method,
        url: pathWith(target, { [name]: '\u0001' }).replace('%01', v),
        category: 'path-param' as const,
        ...bodyIfNeeded(target),
      })),
    );
  }
  return fc.oneof(...arbs);
}

/**
 * The body a query or path fuzz sends along: none where none is taken; where one is required, a
 * wrong one, so a request that got past the query or path checks still could not act.
 */
function bodyIfNeeded(target: FuzzTarget): Pick<FuzzRequest, 'body' | 'contentType'> {
  if (!hasBodyMethod(target.method) || !target.op.requestBody) return {};
  return { body: JSON.stringify({ $where: 'sleep(1000)' }), contentType: 'application/json' };
}

// ---------------------------------------------------------------- the oracle

/** Validates requests against the document, the way Express hands them to the handlers. */
export class Oracle {
  private readonly ajv = new Ajv2020({ allErrors: false, strict: false, validateFormats: false });
  /** Query values arrive as strings: coerced to the parameter's type first, as zod's coerce does. */
  private readonly ajvQuery = new Ajv2020({ allErrors: false, strict: false, validateFormats: false, coerceTypes: true });
  private readonly cache = new Map<string, ValidateFunction>();

  private compile(ajv: Ajv2020, key: string, schema: JsonSchema): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) this.cache.set(key, (v = ajv.compile(schema)));
    return v;
  }

  verdict(target: FuzzTarget, req: FuzzRequest): Verdict {
    const { op } = target;
    const key = `${target.method} ${target.path}`;
    // Path parameters: Express decodes each segment once.
    const actual = new URL(req.url, 'http://x').pathname;
    const segs = actual.split('/');
    const tmpl = target.path.split('/');
    if (segs.length !== tmpl.length) return { invalid: true, why: 'no such route' };
    for (let i = 0; i < tmpl.length; i++) {
      const m = /^\{(.+)\}$/.exec(tmpl[i]!);
      if (!m) {
        if (tmpl[i] !== segs[i]) return { invalid: true, why: 'no such route' };
        continue;
      }
      const p = op.parameters.find((x) => x.in === 'path' && x.name === m[1]);
      let value: string;
      try {
        value = decodeURIComponent(segs[i]!);
      } catch {
        return { invalid: true, why: `path ${m[1]}: bad escape` };
      }
      if (p && !this.compile(this.ajv, `${key} path ${p.name}`, p.schema)(value)) return { invalid: true, why: `path ${p.name}` };
    }
    // Query: node:querystring, Express 5's default ("simple") parser.
    const qs = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const query = { ...parseQuery(qs) } as Record<string, unknown>;
    const qParams = op.parameters.filter((p) => p.in === 'query');
    if (qParams.length) {
      const known = new Set(qParams.map((p) => p.name));
      if (op['x-strict-query'] && Object.keys(query).some((k) => !known.has(k))) return { invalid: true, why: 'unknown query parameter' };
      for (const p of qParams) {
        if (!(p.name in query)) {
          if (p.required) return { invalid: true, why: `query ${p.name} missing` };
          continue;
        }
        const holder = { v: query[p.name] };
        const ok = this.compile(this.ajvQuery, `${key} query ${p.name}`, { type: 'object', properties: { v: p.schema } })(holder);
        if (!ok) return { invalid: true, why: `query ${p.name}` };
      }
    }
    // Body.
    if (hasBodyMethod(target.method)) {
      const schema = op.requestBody?.content['application/json'].schema;
      const sent = req.body !== undefined && req.body !== '';
      if (sent && !/^application\/json\b/.test(req.contentType ?? '')) return { invalid: true, why: 'body is not JSON' };
      if (sent && !isJson(req.body!)) return { invalid: true, why: 'malformed JSON' };
      if (sent && new TextEncoder().encode(req.body).length > 256 * 1024) return { invalid: true, why: 'body too large' };
      if (!sent && op.requestBody?.required) return { invalid: true, why: 'body missing' };
      if (sent && schema && !this.compile(this.ajv, `${key} body`, schema)(JSON.parse(req.body!))) return { invalid: true, why: 'body schema' };
      if (sent && !schema) return { invalid: true, why: 'route takes no body' };
    }
    return { invalid: false };
  }
}
