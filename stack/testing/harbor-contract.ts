import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';

/**
 * Harbor v2.0 contract checks for the Harbor driver's tests: the transcribed subset of Harbor's published
 * swagger (`infra/registry/__fixtures__/harbor-v2.0-swagger.subset.yaml`) compiled with ajv, and a tiny
 * HTTP server that records every request the driver makes, validates it (operation exists, path/query/header
 * parameters typed and declared, body against its schema) and answers from in-memory state with responses that
 * are themselves validated against the operation's declared response schema before they are sent.
 */

interface SwaggerParam {
  name: string;
  in: 'path' | 'query' | 'header' | 'body';
  type?: string;
  required?: boolean;
  maximum?: number;
  schema?: unknown;
}
interface SwaggerOp {
  operationId: string;
  parameters: (SwaggerParam | { $ref: string })[];
  responses: Record<string, { $ref?: string; schema?: unknown }>;
}
interface SwaggerDoc {
  basePath: string;
  paths: Record<string, Record<string, SwaggerOp>>;
  parameters: Record<string, SwaggerParam>;
  responses: Record<string, { schema?: unknown }>;
  definitions: Record<string, unknown>;
}

export const CONTRACT_FILE = join(import.meta.dirname, '..', '..', 'infra', 'registry', '__fixtures__', 'harbor-v2.0-swagger.subset.yaml');

/** Rewrites `#/definitions/X` to the registered document's id so inline schemas resolve. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `harbor${v}` : rebase(v)]),
    );
  }
  return schema;
}

export interface MatchedOp {
  operationId: string;
  op: SwaggerOp;
  template: string;
  pathParams: Record<string, string>;
}

export function harborContract(file = CONTRACT_FILE) {
  const doc = parseYaml(readFileSync(file, 'utf8')) as SwaggerDoc;
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const f of ['int', 'int32', 'int64', 'uint64', 'url', 'uri']) ajv.addFormat(f, true);
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addSchema({ $id: 'harbor', definitions: doc.definitions });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (key: string, schema: unknown): ValidateFunction => {
    let v = compiled.get(key);
    if (!v) {
      v = ajv.compile(rebase(schema) as object);
      compiled.set(key, v);
    }
    return v;
  };
  const resolveParam = (p: SwaggerParam | { $ref: string }): SwaggerParam =>
    '$ref' in p ? (doc.parameters[p.$ref.replace('#/parameters/', '')] as SwaggerParam) : p;

  /** The operation a request addresses: `{name}` segments match one raw (still-encoded) path segment each. */
  function match(method: string, rawPath: string): MatchedOp | null {
    if (!rawPath.startsWith(doc.basePath)) return null;
    const segs = rawPath.slice(doc.basePath.length).split('/');
    for (const [template, ops] of Object.entries(doc.paths)) {
      const op = ops[method.toLowerCase()];
      const tsegs = template.split('/');
      if (!op || tsegs.length !== segs.length) continue;
      const pathParams: Record<string, string> = {};
      const ok = tsegs.every((t, i) => {
        const m = /^\{(.+)\}$/.exec(t);
        if (m) {
          pathParams[m[1]!] = decodeURIComponent(segs[i]!);
          return segs[i]!.length > 0;
        }
        return t === segs[i];
      });
      if (ok) return { operationId: op.operationId, op, template, pathParams };
    }
    return null;
  }

  const typeProblem = (p: SwaggerParam, value: string): string | null => {
    if (p.type === 'boolean' && value !== 'true' && value !== 'false') return `${p.in} parameter ${p.name}=${value} is not a boolean`;
    if (p.type === 'integer') {
      if (!/^-?\d+$/.test(value)) return `${p.in} parameter ${p.name}=${value} is not an integer`;
      if (p.maximum !== undefined && Number(value) > p.maximum) return `${p.in} parameter ${p.name}=${value} exceeds maximum ${p.maximum}`;
    }
    return null;
  };

  /** Contract violations of one request (empty when it conforms). */
  function checkRequest(req: { method: string; path: string; query: URLSearchParams; headers: Record<string, string | string[] | undefined>; body: string }): {
    matched: MatchedOp | null;
    problems: string[];
  } {
    const matched = match(req.method, req.path);
    if (!matched) return { matched, problems: [`${req.method} ${req.path} is not an operation of the contract`] };
    const problems: string[] = [];
    const params = matched.op.parameters.map(resolveParam);
    for (const p of params.filter((x) => x.in === 'path')) {
      const v = matched.pathParams[p.name];
      if (v === undefined) problems.push(`path parameter ${p.name} missing`);
      else {
        const t = typeProblem(p, v);
        if (t) problems.push(t);
      }
    }
    const declaredQuery = new Set(params.filter((x) => x.in === 'query').map((x) => x.name));
    for (const key of new Set(req.query.keys())) if (!declaredQuery.has(key)) problems.push(`query parameter ${key} is not declared by ${matched.operationId}`);
    for (const p of params.filter((x) => x.in === 'query')) {
      const v = req.query.get(p.name);
      if (v === null) {
        if (p.required) problems.push(`required query parameter ${p.name} missing`);
        continue;
      }
      const t = typeProblem(p, v);
      if (t) problems.push(t);
    }
    for (const p of params.filter((x) => x.in === 'header')) {
      const v = req.headers[p.name.toLowerCase()];
      if (typeof v === 'string') {
        const t = typeProblem(p, v);
        if (t) problems.push(t);
      } else if (p.required) problems.push(`required header ${p.name} missing`);
    }
    const bodyParam = params.find((x) => x.in === 'body');
    if (!bodyParam) {
      if (req.body.length > 0) problems.push(`${matched.operationId} takes no body`);
    } else if (req.body.length === 0) {
      if (bodyParam.required) problems.push(`${matched.operationId} requires a body`);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(req.body);
      } catch {
        problems.push(`${matched.operationId} body is not JSON`);
      }
      if (parsed !== undefined) {
        const v = validator(`${matched.operationId}:body`, bodyParam.schema);
        if (!v(parsed)) problems.push(`${matched.operationId} body: ${ajv.errorsText(v.errors)}`);
      }
    }
    return { matched, problems };
  }

  /** Contract violations of a response the fake server is about to send. */
  function checkResponse(matched: MatchedOp, status: number, body: unknown): string[] {
    const declared = matched.op.responses[String(status)];
    if (!declared) return [`${matched.operationId} declares no ${status} response`];
    const resolved = declared.$ref ? doc.responses[declared.$ref.replace('#/responses/', '')] : declared;
    if (!resolved?.schema) return body === undefined ? [] : [`${matched.operationId} ${status} declares no body`];
    const v = validator(`${matched.operationId}:${status}`, resolved.schema);
    return v(body) ? [] : [`${matched.operationId} ${status} response: ${ajv.errorsText(v.errors)}`];
  }

  const operationIds = (): string[] => Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));

  return { doc, match, checkRequest, checkResponse, operationIds };
}

export type HarborContract = ReturnType<typeof harborContract>;

// ---------------------------------------------------------------- the fake Harbor

export interface FakeArtifact {
  id: number;
  digest: string;
  size: number;
  manifest_media_type: string;
  media_type: string;
  push_time: string;
  extra_attrs: Record<string, unknown>;
  references?: { parent_id: number; child_id: number; child_digest: string; platform: { architecture: string; os: string } }[];
  tags: { id: number; name: string; push_time: string; immutable: boolean; signed: boolean }[];
  scan?: {
    severity: string;
    summary: Record<string, number>;
    vulnerabilities: { id: string; package: string; version: string; fix_version?: string; severity: string }[];
  };
  scanRequested?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | null;
  status: number;
  problems: string[];
}

export interface FakeHarbor {
  url: string;
  username: string;
  password: string;
  requests: RecordedRequest[];
  /** Every violation seen (requests and responses). */
  problems(): string[];
  /** Adds an image (single platform, or an index with one child per architecture) as if pushed. */
  seedImage(repository: string, tag: string, archs: string[]): { digest: string };
  /** Sets the scan result Harbor would report for an artifact (applied when a scan is triggered). */
  setScanResult(repository: string, digest: string, vulns: NonNullable<FakeArtifact['scan']>['vulnerabilities']): void;
  /** Marks a tag signed (Harbor's notary signature flag, reported with `with_signature=true`). */
  signTag(repository: string, tag: string): void;
  /** The robot's current secret and expiry (epoch seconds), as Harbor holds them; undefined for an unknown robot. */
  robot(id: number): { secret: string; expiresAt: number } | undefined;
  /** Moves a robot's creation time back (as if created `days` ago), expiry with it. */
  ageRobot(id: number, days: number): void;
  close(): Promise<void>;
}

const hex = (n: number): string => n.toString(16).padStart(64, '0');
/** Digests of one fake's images: distinct per fake instance, so scans stored in the shared MongoDB by one test file never match another's images. */
const digestOf = (salt: string, id: number): string => `sha256:${salt}${hex(id * 7919).slice(salt.length)}`;

/** Starts the contract-checking fake Harbor on 127.0.0.1 (a free port). Basic credentials are required. */
export async function startFakeHarbor(contract: HarborContract = harborContract()): Promise<FakeHarbor> {
  const username = 'admin';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const salt = randomBytes(8).toString('hex');
  const requests: RecordedRequest[] = [];
  const extraProblems: string[] = [];
  let nextId = 1;
  const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const projects = new Map<string, { project_id: number; name: string; metadata: Record<string, string>; creation_time: string }>();
  const repos = new Map<string, { id: number; project: string; artifacts: FakeArtifact[]; creation_time: string }>();
  const robots = new Map<
    number,
    { id: number; name: string; level: string; duration: number; disable: boolean; expires_at: number; permissions: unknown[]; creation_time: string }
  >();
  const robotSecrets = new Map<number, string>();
  const quotas = new Map<
    number,
    { id: number; ref: { id: number; name: string; owner_name: string }; hard: Record<string, number>; used: Record<string, number>; creation_time: string }
  >();
  const pendingScans = new Map<string, NonNullable<FakeArtifact['scan']>['vulnerabilities']>();

  const ensureProject = (name: string, metadata: Record<string, string> = { public: 'false' }, storage = -1) => {
    let p = projects.get(name);
    if (!p) {
      p = { project_id: nextId++, name, metadata, creation_time: now() };
      projects.set(name, p);
      const q = nextId++;
      quotas.set(q, { id: q, ref: { id: p.project_id, name, owner_name: 'admin' }, hard: { storage }, used: { storage: 0 }, creation_time: now() });
    }
    return p;
  };
  const repoOf = (repository: string, create = false) => {
    let r = repos.get(repository);
    if (!r && create) {
      ensureProject(repository.slice(0, repository.indexOf('/')));
      r = { id: nextId++, project: repository.slice(0, repository.indexOf('/')), artifacts: [], creation_time: now() };
      repos.set(repository, r);
    }
    return r;
  };
  const findArtifact = (repository: string, reference: string): FakeArtifact | undefined =>
    repoOf(repository)?.artifacts.find((a) => a.digest === reference || a.tags.some((t) => t.name === reference));

  const overview = (a: FakeArtifact) => {
    if (!a.scan)
      return a.scanRequested ? { 'application/vnd.security.vulnerability.report; version=1.1': { scan_status: 'Running', complete_percent: 10 } } : undefined;
    return {
      'application/vnd.security.vulnerability.report; version=1.1': {
        report_id: `r-${a.id}`,
        scan_status: 'Success',
        severity: a.scan.severity,
        duration: 3,
        summary: { total: a.scan.vulnerabilities.length, fixable: a.scan.vulnerabilities.filter((v) => v.fix_version).length, summary: a.scan.summary },
        start_time: a.push_time,
        end_time: now(),
        complete_percent: 100,
        scanner: { name: 'Trivy', vendor: 'Aqua Security', version: 'v0.50.0' },
      },
    };
  };
  const artifactView = (a: FakeArtifact, q: URLSearchParams) => {
    const { scan: _s, scanRequested: _r, ...rest } = a;
    const ov = q.get('with_scan_overview') === 'true' ? overview(a) : undefined;
    // Harbor fills `Tag.signed` only when asked (`with_signature`); otherwise it reports false.
    const tags = q.get('with_signature') === 'true' ? a.tags : a.tags.map((t) => ({ ...t, signed: false }));
    return { ...rest, tags: q.get('with_tag') === 'false' ? [] : tags, ...(ov ? { scan_overview: ov } : {}) };
  };
  const errors = (code: string, message: string) => ({ errors: [{ code, message }] });
  const rank = ['None', 'Unknown', 'Low', 'Medium', 'High', 'Critical'];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const { matched, problems } = contract.checkRequest({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
        const respProblems = matched ? contract.checkResponse(matched, status, payload) : [];
        problems.push(...respProblems);
        requests.push({ method: req.method ?? 'GET', path: url.pathname, operationId: matched?.operationId ?? null, status, problems: [...problems] });
        const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${requests.length}`, ...headers });
        res.end(req.method === 'HEAD' ? undefined : text);
      };
      if (req.headers.authorization !== `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`)
        return reply(401, errors('UNAUTHORIZED', 'unauthorized'));
      if (!matched) return reply(404, errors('NOT_FOUND', 'no such operation'));
      const pp = matched.pathParams;
      // Harbor decodes repository_name twice (`a%252Fb`); the contract layer decoded it once.
      const repository =
        pp.project_name !== undefined && pp.repository_name !== undefined ? `${pp.project_name}/${decodeURIComponent(pp.repository_name)}` : '';
      const json = (): Record<string, unknown> => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
      switch (matched.operationId) {
        case 'listAllRepositories':
        case 'listRepositories': {
          const page = Number(url.searchParams.get('page') ?? 1);
          const size = Number(url.searchParams.get('page_size') ?? 10);
          const all = [...repos.entries()]
            .filter(([, r]) => matched.operationId === 'listAllRepositories' || r.project === pp.project_name)
            .map(([name, r]) => ({
              id: r.id,
              project_id: projects.get(r.project)?.project_id ?? 0,
              name,
              artifact_count: r.artifacts.length,
              pull_count: 0,
              creation_time: r.creation_time,
              update_time: r.creation_time,
            }));
          if (matched.operationId === 'listRepositories' && !projects.has(pp.project_name ?? '')) return reply(404, errors('NOT_FOUND', 'project not found'));
          return reply(200, all.slice((page - 1) * size, page * size));
        }
        case 'deleteRepository':
          if (!repos.delete(repository)) return reply(404, errors('NOT_FOUND', 'repository not found'));
          return reply(200);
        case 'listArtifacts': {
          const r = repoOf(repository);
          if (!r) return reply(404, errors('NOT_FOUND', 'repository not found'));
          return reply(
            200,
            r.artifacts.map((a) => artifactView(a, url.searchParams)),
          );
        }
        case 'CopyArtifact': {
          const from = url.searchParams.get('from') ?? '';
          const at = from.lastIndexOf('@');
          const src = at > 0 ? findArtifact(from.slice(0, at), from.slice(at + 1)) : undefined;
          if (!src) return reply(404, errors('NOT_FOUND', `artifact ${from} not found`));
          const target = repoOf(repository, true)!;
          const srcRepo = repoOf(from.slice(0, at))!;
          const children = (src.references ?? [])
            .map((ref) => srcRepo.artifacts.find((x) => x.digest === ref.child_digest))
            .filter((x): x is FakeArtifact => x !== undefined);
          for (const a of [...children, src]) {
            if (!target.artifacts.some((x) => x.digest === a.digest))
              target.artifacts.push({ ...structuredClone(a), id: nextId++, tags: [], push_time: now() });
          }
          return reply(201, undefined, { location: `/api/v2.0/projects/${pp.project_name}/repositories/${pp.repository_name}/artifacts/${src.digest}` });
        }
        case 'getArtifact': {
          const a = findArtifact(repository, pp.reference ?? '');
          if (!a) return reply(404, errors('NOT_FOUND', 'artifact not found'));
          return reply(200, artifactView(a, url.searchParams));
        }
        case 'deleteArtifact': {
          const r = repoOf(repository);
          const a = findArtifact(repository, pp.reference ?? '');
          if (!r || !a) return reply(404, errors('NOT_FOUND', 'artifact not found'));
          r.artifacts = r.artifacts.filter((x) => x !== a);
          return reply(200);
        }
        case 'scanArtifact': {
          const a = findArtifact(repository, pp.reference ?? '');
          if (!a) return reply(404, errors('NOT_FOUND', 'artifact not found'));
          const vulns = pendingScans.get(a.digest) ?? [];
          const summary: Record<string, number> = {};
          for (const v of vulns) summary[v.severity] = (summary[v.severity] ?? 0) + 1;
          const severity = vulns.reduce((s, v) => (rank.indexOf(v.severity) > rank.indexOf(s) ? v.severity : s), 'None');
          a.scan = { severity, summary, vulnerabilities: vulns };
          return reply(202);
        }
        case 'createTag': {
          const a = findArtifact(repository, pp.reference ?? '');
          if (!a) return reply(404, errors('NOT_FOUND', 'artifact not found'));
          const name = String(json().name ?? '');
          if (a.tags.some((t) => t.name === name)) return reply(409, errors('CONFLICT', `tag ${name} already exists`));
          for (const other of repoOf(repository)!.artifacts) other.tags = other.tags.filter((t) => t.name !== name);
          a.tags.push({ id: nextId++, name, push_time: now(), immutable: false, signed: false });
          return reply(201);
        }
        case 'deleteTag': {
          const a = findArtifact(repository, pp.reference ?? '');
          if (!a || !a.tags.some((t) => t.name === pp.tag_name)) return reply(404, errors('NOT_FOUND', 'tag not found'));
          a.tags = a.tags.filter((t) => t.name !== pp.tag_name);
          return reply(200);
        }
        case 'getVulnerabilitiesAddition': {
          const a = findArtifact(repository, pp.reference ?? '');
          if (!a) return reply(404, errors('NOT_FOUND', 'artifact not found'));
          const report = {
            'application/vnd.security.vulnerability.report; version=1.1': {
              generated_at: now(),
              scanner: { name: 'Trivy', vendor: 'Aqua Security', version: 'v0.50.0' },
              severity: a.scan?.severity ?? 'None',
              vulnerabilities: a.scan?.vulnerabilities ?? [],
            },
          };
          return reply(200, JSON.stringify(report));
        }
        case 'listProjects': {
          const page = Number(url.searchParams.get('page') ?? 1);
          const size = Number(url.searchParams.get('page_size') ?? 10);
          const name = url.searchParams.get('name');
          const all = [...projects.values()]
            .filter((p) => name === null || p.name.includes(name))
            .sort((a, b) => a.project_id - b.project_id)
            .map((p) => ({
              ...p,
              owner_id: 1,
              owner_name: 'admin',
              repo_count: [...repos.values()].filter((r) => r.project === p.name).length,
              chart_count: 0,
              update_time: p.creation_time,
            }));
          return reply(200, all.slice((page - 1) * size, page * size));
        }
        case 'headProject':
          return reply(
            projects.has(url.searchParams.get('project_name') ?? '') ? 200 : 404,
            projects.has(url.searchParams.get('project_name') ?? '') ? undefined : errors('NOT_FOUND', 'project not found'),
          );
        case 'createProject': {
          const b = json() as { project_name?: string; metadata?: Record<string, string>; storage_limit?: number };
          if (!b.project_name) return reply(400, errors('BAD_REQUEST', 'project_name required'));
          if (projects.has(b.project_name)) return reply(409, errors('CONFLICT', 'project already exists'));
          const p = ensureProject(b.project_name, b.metadata ?? { public: 'false' }, b.storage_limit ?? -1);
          return reply(201, undefined, { location: `/api/v2.0/projects/${p.project_id}` });
        }
        case 'getProject': {
          const p = projects.get(pp.project_name_or_id ?? '');
          if (!p) return reply(500, errors('INTERNAL', 'project lookup failed'));
          return reply(200, {
            ...p,
            owner_id: 1,
            owner_name: 'admin',
            repo_count: [...repos.values()].filter((r) => r.project === p.name).length,
            chart_count: 0,
            update_time: p.creation_time,
          });
        }
        case 'updateProject': {
          const p = projects.get(pp.project_name_or_id ?? '');
          if (!p) return reply(404, errors('NOT_FOUND', 'project not found'));
          p.metadata = { ...p.metadata, ...((json().metadata as Record<string, string>) ?? {}) };
          return reply(200);
        }
        case 'deleteProject': {
          // Harbor refuses (412) to delete a project that still holds repositories.
          const p = projects.get(pp.project_name_or_id ?? '');
          if (!p) return reply(404, errors('NOT_FOUND', 'project not found'));
          if ([...repos.values()].some((r) => r.project === p.name)) return reply(412, errors('PRECONDITION', 'the project contains repositories'));
          projects.delete(p.name);
          return reply(200);
        }
        case 'ListRobot': {
          const m = /ProjectID=(\d+)/.exec(url.searchParams.get('q') ?? '');
          const project = [...projects.values()].find((p) => m && p.project_id === Number(m[1]));
          const list = [...robots.values()].filter((r) => !project || (r.permissions as { namespace?: string }[]).some((x) => x.namespace === project.name));
          return reply(
            200,
            list.map((r) => ({ ...r, editable: true, update_time: r.creation_time })),
          );
        }
        case 'CreateRobot': {
          const b = json() as { name?: string; level?: string; duration?: number; disable?: boolean; permissions?: { namespace?: string }[] };
          if (!b.name || !b.level || b.duration === undefined) return reply(400, errors('BAD_REQUEST', 'name, level and duration are required'));
          if ((b.permissions ?? []).some((p) => !projects.has(p.namespace ?? ''))) return reply(404, errors('NOT_FOUND', 'project not found'));
          const id = nextId++;
          const created = now();
          const expires = b.duration === -1 ? -1 : Math.floor(Date.now() / 1000) + b.duration * 86_400;
          const name = `robot$${b.permissions?.[0]?.namespace ?? 'system'}+${b.name}`;
          robots.set(id, {
            id,
            name,
            level: b.level,
            duration: b.duration,
            disable: b.disable ?? false,
            expires_at: expires,
            permissions: b.permissions ?? [],
            creation_time: created,
          });
          const secret = `secret-${Math.random().toString(36).slice(2)}`;
          robotSecrets.set(id, secret);
          return reply(201, { id, name, secret, creation_time: created, expires_at: expires }, { location: `/api/v2.0/robots/${id}` });
        }
        case 'GetRobotByID': {
          const r = robots.get(Number(pp.robot_id));
          if (!r) return reply(404, errors('NOT_FOUND', 'robot not found'));
          return reply(200, { ...r, editable: true, update_time: r.creation_time });
        }
        case 'UpdateRobot': {
          // Harbor keeps name and level, and recomputes the expiry from the creation time and the new duration.
          const r = robots.get(Number(pp.robot_id));
          if (!r) return reply(404, errors('NOT_FOUND', 'robot not found'));
          const b = json() as { name?: string; level?: string; duration?: number; disable?: boolean };
          if (b.name !== r.name || b.level !== r.level) return reply(400, errors('BAD_REQUEST', 'cannot update the level or name of robot'));
          if (b.duration !== undefined) {
            r.duration = b.duration;
            r.expires_at = b.duration === -1 ? -1 : Math.floor(Date.parse(r.creation_time) / 1000) + b.duration * 86_400;
          }
          if (b.disable !== undefined) r.disable = b.disable;
          return reply(200);
        }
        case 'RefreshSec': {
          const r = robots.get(Number(pp.robot_id));
          if (!r) return reply(404, errors('NOT_FOUND', 'robot not found'));
          const given = (json() as { secret?: string }).secret;
          const secret = given || `secret-${Math.random().toString(36).slice(2)}`;
          robotSecrets.set(r.id, secret);
          return reply(200, { secret });
        }
        case 'DeleteRobot':
          if (!robots.delete(Number(pp.robot_id))) return reply(404, errors('NOT_FOUND', 'robot not found'));
          return reply(200);
        case 'listQuotas': {
          const refId = url.searchParams.get('reference_id');
          return reply(
            200,
            [...quotas.values()].filter((q) => refId === null || String(q.ref.id) === refId).map((q) => ({ ...q, update_time: q.creation_time })),
          );
        }
        case 'updateQuota': {
          const q = quotas.get(Number(pp.id));
          if (!q) return reply(404, errors('NOT_FOUND', 'quota not found'));
          q.hard = { ...q.hard, ...((json().hard as Record<string, number>) ?? {}) };
          return reply(200);
        }
        default:
          extraProblems.push(`fake Harbor has no handler for ${matched.operationId}`);
          return reply(500, errors('INTERNAL', 'not implemented by the fake'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');

  return {
    url: `http://127.0.0.1:${address.port}`,
    username,
    password,
    requests,
    problems: () => [...extraProblems, ...requests.flatMap((r) => r.problems.map((p) => `${r.method} ${r.path}: ${p}`))],
    seedImage(repository, tag, archs) {
      const r = repoOf(repository, true)!;
      const mk = (arch: string): FakeArtifact => {
        const id = nextId++;
        return {
          id,
          digest: digestOf(salt, id),
          size: 1000 + id,
          manifest_media_type: 'application/vnd.oci.image.manifest.v1+json',
          media_type: 'application/vnd.oci.image.config.v1+json',
          push_time: now(),
          extra_attrs: { architecture: arch, os: 'linux', created: now() },
          tags: [],
        };
      };
      let top: FakeArtifact;
      if (archs.length === 1) top = mk(archs[0]!);
      else {
        const children = archs.map(mk);
        r.artifacts.push(...children);
        const id = nextId++;
        top = {
          id,
          digest: digestOf(salt, id),
          size: children.reduce((a, c) => a + c.size, 0),
          manifest_media_type: 'application/vnd.oci.image.index.v1+json',
          media_type: 'application/vnd.oci.image.index.v1+json',
          push_time: now(),
          extra_attrs: {},
          references: children.map((c, i) => ({ parent_id: id, child_id: c.id, child_digest: c.digest, platform: { architecture: archs[i]!, os: 'linux' } })),
          tags: [],
        };
      }
      top.tags.push({ id: nextId++, name: tag, push_time: now(), immutable: false, signed: false });
      r.artifacts.push(top);
      return { digest: top.digest };
    },
    setScanResult(_repository, digest, vulns) {
      pendingScans.set(digest, vulns);
    },
    robot(id) {
      const r = robots.get(id);
      return r ? { secret: robotSecrets.get(id) ?? '', expiresAt: r.expires_at } : undefined;
    },
    ageRobot(id, days) {
      const r = robots.get(id);
      if (!r) return;
      r.creation_time = new Date(Date.parse(r.creation_time) - days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
      if (r.expires_at !== -1) r.expires_at -= days * 86_400;
    },
    signTag(repository, tag) {
      for (const a of repoOf(repository)?.artifacts ?? []) for (const t of a.tags) if (t.name === tag) t.signed = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
