import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadApiConfig } from '../api/config.ts';
import { SECURITY_HEADERS } from '../api/security-headers.ts';
import { loadWorkerConfig } from '../worker/config.ts';
import { buildApps } from '../stack/lib/app-build.ts';

/**
 * Static checks of the Docker Compose deployment, runnable without a Docker engine: docker-compose.yml
 * parses, interpolates from .env.example the way Compose does, validates against the Compose
 * Specification JSON schema, and keeps the deployment rules (health checks, start order, no literal
 * secrets, config the api/worker accept); the Keycloak realm, Dockerfile and nginx config keep theirs.
 *
 * The schema is the one `dclint` ships (schemas/compose.schema.json, a copy of compose-spec's
 * schema/compose-spec.json); no other npm package carries a current one.
 */

const repo = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(repo, path), 'utf8');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  restart?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[]; disable?: boolean };
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  ports?: string[];
  env_file?: unknown;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** One-shot jobs: they run to completion, so dependants wait for `service_completed_successfully`. */
const ONE_SHOT_JOBS = ['temporal-namespace', 'temporal-schema'];
/** Names whose values are secrets wherever they appear (compose environment, .env.example). */
const SECRET_NAME = /(PASSWORD|SECRET|_PWD|REDISCLI_AUTH|CREDENTIALS_KEY)$/;

// ---------------------------------------------------------------- .env and Compose interpolation

function parseDotEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`.env line without KEY=VALUE: ${raw}`);
    env[line.slice(0, eq).trim()] = line
      .slice(eq + 1)
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}. */
function interpolate(value: string, env: Record<string, string>, errors: string[], where: string): string {
  return value.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, dollar: string | undefined, name: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (dollar) return '$';
      const key = (name ?? bare)!;
      const set = key in env;
      const nonEmpty = set && env[key] !== '';
      switch (op) {
        case ':-':
          return nonEmpty ? env[key]! : (arg ?? '');
        case '-':
          return set ? env[key]! : (arg ?? '');
        case ':?':
        case '?':
          if (op === ':?' ? nonEmpty : set) return env[key]!;
          errors.push(`${where}: ${key}: ${arg ?? 'required'}`);
          return '';
        case ':+':
          return nonEmpty ? (arg ?? '') : '';
        case '+':
          return set ? (arg ?? '') : '';
        default:
          return env[key] ?? '';
      }
    },
  );
}

function interpolateAll<T extends Json>(node: T, env: Record<string, string>, errors: string[], where = ''): T {
  if (typeof node === 'string') return interpolate(node, env, errors, where) as T;
  if (Array.isArray(node)) return node.map((v, i) => interpolateAll(v, env, errors, `${where}[${i}]`)) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env, errors, where ? `${where}.${k}` : k)])) as T;
  }
  return node;
}

/** Every `${VAR...}` the text refers to. */
const referencedVars = (text: string): Set<string> => new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));

const composeText = read('docker-compose.yml');
const raw = parse(composeText, { merge: true }) as Obj & Compose;
const exampleText = read('.env.example');
const example = parseDotEnv(exampleText);
/** .env.example with every empty value filled the way an operator would (secrets, kubeconfig path). */
const filled: Record<string, string> = Object.fromEntries(
  Object.entries(example).map(([k, v]) => [
    k,
    v !== ''
      ? v
      : k === 'EDGEPORT_KUBECONFIG_FILE'
        ? '/srv/edgeport/kubeconfig'
        : k === 'EDGEPORT_CREDENTIALS_KEY'
          ? Buffer.alloc(32, 1).toString('base64')
          : `${k.toLowerCase()}-0123456789abcdef0123456789abcdef`,
  ]),
);
const interpolationErrors: string[] = [];
const compose = interpolateAll(raw as Json, filled, interpolationErrors) as Obj & Compose;
const services = Object.entries(compose.services);
const longRunning = services.filter(([name]) => !ONE_SHOT_JOBS.includes(name));

// ---------------------------------------------------------------- the Compose file

describe('docker-compose.yml', () => {
  it('parses as YAML and interpolates from a filled .env without errors', () => {
    expect(raw.services).toBeTypeOf('object');
    expect(interpolationErrors).toEqual([]);
  });

  it('validates against the Compose Specification JSON schema', () => {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('dclint/package.json');
    const { $schema: draft, ...schema } = JSON.parse(readFileSync(join(dirname(pkg), 'schemas', 'compose.schema.json'), 'utf8')) as Obj;
    expect(schema.title).toBe('Compose Specification');
    // Ajv's default meta-schema is draft-07; the file names it by an https URL Ajv does not know.
    expect(String(draft)).toMatch(/draft-07/);
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(ok ? [] : ajv.errorsText(validate.errors, { separator: '\n' }).split('\n')).toEqual([]);
    // The raw file too (unresolved ${...} strings), as an editor with the schema would see it.
    expect(validate(raw) ? [] : validate.errors).toEqual([]);
  });

  it('refuses to start while a secret in .env is still empty (fail closed)', () => {
    const errors: string[] = [];
    interpolateAll(raw as Json, example, errors);
    const missing = new Set(errors.map((e) => e.split(': ')[1]));
    const emptySecrets = Object.keys(example).filter((k) => SECRET_NAME.test(k) && example[k] === '');
    expect(emptySecrets.length).toBeGreaterThan(0);
    for (const key of [...emptySecrets, 'EDGEPORT_KUBECONFIG_FILE']) expect(missing, key).toContain(key);
  });

  it('has the whole stack', () => {
    const image = (name: string): string => compose.services[name]?.image ?? '';
    expect(image('postgresql')).toMatch(/^postgres:16/);
    expect(image('temporal')).toMatch(/^temporalio\/(server|auto-setup):/);
    expect(image('temporal-ui')).toMatch(/^temporalio\/ui:/);
    expect(image('mongodb')).toMatch(/^mongo:7/);
    expect(image('redis')).toMatch(/^redis:7/);
    expect(image('keycloak')).toMatch(/^quay\.io\/keycloak\/keycloak:26\./);
    for (const name of ['api', 'worker', 'portal']) {
      expect(compose.services[name]?.build).toMatchObject({ context: '.', dockerfile: 'deploy/Dockerfile', target: name });
    }
  });

  it('gives every long-running service a health check and a restart policy', () => {
    for (const [name, s] of longRunning) {
      expect(s.healthcheck?.test, name).toBeDefined();
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect([s.healthcheck?.test].flat()[0], name).not.toBe('NONE');
      expect(s.restart, name).toBe('unless-stopped');
    }
    for (const name of ONE_SHOT_JOBS) {
      expect(compose.services[name]?.restart, name).toMatch(/^on-failure/);
      expect(compose.services[name]?.ports, name).toBeUndefined();
    }
  });

  it('orders start-up on health: service_healthy everywhere, completion only for one-shot jobs', () => {
    let edges = 0;
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        edges++;
        expect(compose.services[dep], `${name} -> ${dep}`).toBeDefined();
        expect(condition, `${name} -> ${dep}`).toBe(ONE_SHOT_JOBS.includes(dep) ? 'service_completed_successfully' : 'service_healthy');
      }
    }
    expect(edges).toBeGreaterThanOrEqual(10);
    expect(Object.keys(compose.services.api?.depends_on ?? {}).sort()).toEqual(['keycloak', 'mongodb', 'redis', 'temporal', 'temporal-namespace']);
    expect(Object.keys(compose.services.worker?.depends_on ?? {}).sort()).toEqual(['mongodb', 'redis', 'temporal', 'temporal-namespace']);
    // The worker runs the BullMQ jobs (reports, scheduled ledger verify, report-file sweep) and answers probes.
    expect(compose.services.worker?.environment?.EDGEPORT_REDIS_URL).toBe(compose.services.api?.environment?.EDGEPORT_REDIS_URL);
    expect(String(compose.services.worker?.environment?.EDGEPORT_WORKER_HEALTH_PORT)).toBe('17251');
    expect(Object.keys(compose.services.portal?.depends_on ?? {})).toEqual(['api']);
  });

  it('keeps state in named volumes', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const named = (s: Service | undefined): string[] =>
      (s?.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.type === 'volume' ? v.source : '')).filter((v) => declared.includes(v));
    expect(named(compose.services.postgresql)).toHaveLength(1);
    expect(named(compose.services.mongodb)).toHaveLength(2);
    expect(named(compose.services.redis)).toHaveLength(1);
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.source;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(declared, `${name}: ${source}`).toContain(source);
      }
    }
  });

  it('configures MongoDB as a replica set, Redis with AOF and noeviction', () => {
    const mongo = compose.services.mongodb!;
    expect(JSON.stringify(mongo)).toContain('--replSet');
    expect([mongo.healthcheck?.test].flat().join(' ')).toMatch(/rs\.initiate\(/);
    const redis = JSON.stringify((compose.services.redis as Obj).command);
    expect(redis).toMatch(/--appendonly yes/);
    expect(redis).toMatch(/--maxmemory-policy noeviction/);
  });

  it('gives the api and worker every setting their config loaders require', () => {
    const apiEnv = compose.services.api!.environment!;
    const workerEnv = compose.services.worker!.environment!;
    for (const key of [
      'EDGEPORT_TEMPORAL_ADDRESS',
      'EDGEPORT_MONGO_URL',
      'EDGEPORT_REDIS_URL',
      'EDGEPORT_OIDC_ISSUER',
      'EDGEPORT_OIDC_CLIENT_ID',
      'EDGEPORT_OIDC_CLIENT_SECRET',
      'EDGEPORT_PUBLIC_URL',
      'EDGEPORT_SESSION_SECRET',
      'EDGEPORT_API_HOST',
      'EDGEPORT_API_PORT',
    ])
      expect(apiEnv[key], key).toBeTruthy();
    for (const key of ['EDGEPORT_TEMPORAL_ADDRESS', 'EDGEPORT_MONGO_URL', 'EDGEPORT_KUBECONFIG']) expect(workerEnv[key], key).toBeTruthy();

    // The loaders themselves: a missing or malformed value throws here, as it would at start-up.
    const api = loadApiConfig(apiEnv);
    expect(api).toMatchObject({ host: '0.0.0.0', port: 17250, temporalAddress: 'temporal:7233', publicUrl: example.EDGEPORT_PUBLIC_URL });
    expect(api.oidc.clientId).toBe('edgeport-portal');
    expect(api.bootstrapAdmins).toEqual(['admin-bootstrap']);
    expect(api.mongoUrl).toMatch(/^mongodb:\/\/[^@]+@mongodb:27017\/edgeport\?replicaSet=rs0$/);
    expect(api.redisUrl).toMatch(/^redis:\/\/:[^@]+@redis:6379\/0$/);
    const worker = loadWorkerConfig(workerEnv);
    expect(worker).toMatchObject({ temporalAddress: 'temporal:7233', mongoUrl: api.mongoUrl });
    expect(worker.taskQueue).toBe(api.taskQueue);

    // The issuer is given as the discovery URL on the internal network (see .env.example).
    expect(api.oidc.issuer).toMatch(/^http:\/\/keycloak:8080\/realms\/edgeport\/\.well-known\/openid-configuration$/);
  });

  it('mounts the kubeconfig named in .env read-only at the path the worker is told', () => {
    const rawWorker = raw.services.worker!;
    const mount = rawWorker.volumes?.find((v) => typeof v === 'object' && v.target === '/etc/edgeport/kubeconfig');
    expect(mount).toMatchObject({ type: 'bind', read_only: true });
    expect(typeof mount === 'object' && mount.source).toMatch(/^\$\{EDGEPORT_KUBECONFIG_FILE:\?/);
    expect(compose.services.worker!.environment!.EDGEPORT_KUBECONFIG).toBe('/etc/edgeport/kubeconfig');
  });

  it('keeps secrets out of the file: they come from .env by interpolation only', () => {
    for (const [name, s] of Object.entries(raw.services)) {
      expect(s.env_file, `${name} must not receive the whole .env`).toBeUndefined();
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const v = String(value);
        if (SECRET_NAME.test(key)) expect(v, `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/);
        // Credentials inside URLs: user and password parts must be references too.
        const creds = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/.exec(v)?.[1];
        if (creds !== undefined) expect(creds.replace(/\$\{[A-Z0-9_]+(:\?[^}]*)?\}/g, ''), `${name}.${key}`).toMatch(/^:?$/);
      }
    }
    // No `…password: value` / `…PASSWORD=value` line with a literal value anywhere in the text.
    const literal = composeText.split('\n').filter((line) => /^\s*-?\s*[\w.-]*(password|secret|pwd)[\w.-]*\s*[:=]\s*(?!['"]?\$|process\.env\.)\S/i.test(line));
    expect(literal).toEqual([]);
    // And .env.example ships no secret values.
    for (const [key, value] of Object.entries(example)) if (SECRET_NAME.test(key)) expect(value, key).toBe('');
  });

  it('documents every variable it uses in .env.example', () => {
    const documented = new Set(Object.keys(example));
    const undocumented = [...referencedVars(composeText)].filter((v) => !documented.has(v));
    expect(undocumented).toEqual([]);
  });

  it('publishes only the portal, Keycloak and (on loopback) the Temporal UI', () => {
    const published = services
      .filter(([, s]) => s.ports?.length)
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(['keycloak', 'portal', 'temporal-ui']);
    expect(compose.services['temporal-ui']!.ports!.every((p) => String(p).startsWith('127.0.0.1:'))).toBe(true);
    // The public URLs agree with the published ports.
    expect(new URL(example.EDGEPORT_PUBLIC_URL!).port).toBe(example.EDGEPORT_HTTP_PORT);
    expect(new URL(example.KEYCLOAK_PUBLIC_URL!).port).toBe(example.KEYCLOAK_HTTP_PORT);
  });
});

// ---------------------------------------------------------------- the Keycloak realm

/** Keycloak's realm-import placeholders: ${VAR} or ${VAR:default} from the environment. */
const resolveKc = (value: string, env: Record<string, string | undefined>): string =>
  value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (m, key: string, def: string | undefined) => env[key] ?? def ?? m);

describe('deploy/keycloak/edgeport-realm.json', () => {
  const realmText = read('deploy/keycloak/edgeport-realm.json');
  const realm = JSON.parse(realmText) as Obj;
  const clients = realm.clients as Obj[];
  const client = clients.find((c) => c.clientId === 'edgeport-portal')!;
  const attrs = client.attributes as Record<string, string>;

  it('is realm edgeport with SSL required for external clients', () => {
    expect(realm).toMatchObject({ realm: 'edgeport', enabled: true, sslRequired: 'external', registrationAllowed: false });
  });

  it('turns brute-force detection on', () => {
    expect(realm.bruteForceProtected).toBe(true);
    expect(realm.failureFactor).toBeGreaterThan(0);
    expect(realm.failureFactor).toBeLessThanOrEqual(10);
    expect(realm.maxFailureWaitSeconds).toBeGreaterThan(0);
  });

  it('has the password policy', () => {
    const policy = String(realm.passwordPolicy);
    for (const rule of [
      /\blength\(12\)/,
      /\bdigits\(\d+\)/,
      /\bupperCase\(\d+\)/,
      /\blowerCase\(\d+\)/,
      /\bspecialChars\(\d+\)/,
      /\bnotUsername\b/,
      /\bpasswordHistory\(\d+\)/,
    ]) {
      expect(policy).toMatch(rule);
    }
  });

  it('matches the API session limits: 30 min idle, 12 h max', () => {
    expect(realm.ssoSessionIdleTimeout).toBe(30 * 60);
    expect(realm.ssoSessionMaxLifespan).toBe(12 * 3600);
  });

  it('has edgeport-portal as a confidential, code-flow-only client that requires PKCE S256', () => {
    expect(clients).toHaveLength(1);
    expect(client).toMatchObject({
      enabled: true,
      protocol: 'openid-connect',
      publicClient: false,
      bearerOnly: false,
      clientAuthenticatorType: 'client-secret',
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      fullScopeAllowed: false,
    });
    expect(attrs['pkce.code.challenge.method']).toBe('S256');
    expect(attrs['oauth2.device.authorization.grant.enabled']).toBe('false');
    expect(client.defaultClientScopes).toEqual(expect.arrayContaining(['profile', 'email']));
    expect(client.secret).toBe('${EDGEPORT_OIDC_CLIENT_SECRET}');
  });

  it('allows exactly the portal callback, origin and post-logout page (default and from .env)', () => {
    for (const env of [{}, { EDGEPORT_PUBLIC_URL: example.EDGEPORT_PUBLIC_URL }]) {
      expect((client.redirectUris as string[]).map((u) => resolveKc(u, env))).toEqual(['http://localhost:8080/auth/callback']);
      expect((client.webOrigins as string[]).map((u) => resolveKc(u, env))).toEqual(['http://localhost:8080']);
      expect(resolveKc(attrs['post.logout.redirect.uris']!, env)).toBe('http://localhost:8080/');
    }
    expect(resolveKc((client.redirectUris as string[])[0]!, { EDGEPORT_PUBLIC_URL: 'https://edgeport.example.org' })).toBe(
      'https://edgeport.example.org/auth/callback',
    );
  });

  it('ships no usable password: at most admin-bootstrap, with a temporary one from the environment', () => {
    const users = (realm.users ?? []) as Obj[];
    expect(users.length).toBeLessThanOrEqual(1);
    for (const u of users) {
      expect(u.username).toBe('admin-bootstrap');
      expect(u.requiredActions).toContain('UPDATE_PASSWORD');
      for (const c of (u.credentials ?? []) as Obj[]) {
        expect(c.temporary).toBe(true);
        expect(c.value).toMatch(/^\$\{[A-Z0-9_]+\}$/);
      }
    }
  });

  it('gets every placeholder without a default from the keycloak service environment', () => {
    const kcEnv = raw.services.keycloak!.environment!;
    const needed = [...realmText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
    expect(needed.length).toBeGreaterThan(0);
    for (const key of needed) expect(kcEnv, key).toHaveProperty(key);
    const volumes = (raw.services.keycloak!.volumes ?? []).map(String);
    expect(volumes).toContain('./deploy/keycloak/edgeport-realm.json:/opt/keycloak/data/import/edgeport-realm.json:ro');
    expect(JSON.stringify((raw.services.keycloak as Obj).command)).toContain('--import-realm');
  });
});

// ---------------------------------------------------------------- the images and the proxy

describe('deploy/Dockerfile and deploy/nginx.conf', () => {
  const dockerfile = read('deploy/Dockerfile');
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1]!, name: m[2] }));
  const stage = (name: string): string => {
    const start = dockerfile.search(new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${name}\\s*$`, 'im'));
    expect(start, name).toBeGreaterThanOrEqual(0);
    const next = dockerfile.slice(start + 1).search(/^FROM\s/im);
    return next < 0 ? dockerfile.slice(start) : dockerfile.slice(start, start + 1 + next);
  };

  it('builds from node:24-bookworm-slim with npm ci and has api, worker and portal targets', () => {
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24-bookworm-slim/);
    expect(dockerfile).toMatch(/\bnpm ci\b/);
    expect(dockerfile).toMatch(/vite build --config portal\/vite\.config\.ts/);
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['api', 'worker', 'portal']));
  });

  it('runs the compiled api and worker (prebuilt workflow bundle) as non-root over production dependencies, and health-checks the api', () => {
    expect(stage('app-build')).toMatch(/^RUN node_modules\/\.bin\/tsx stack\/build\.ts$/m);
    expect(stage('prod-deps')).toMatch(/npm ci --omit=dev/);
    expect(stage('runtime')).toMatch(/^COPY --from=app-build \/app\/dist \.\/dist$/m);
    expect(stage('runtime')).not.toMatch(/tsx/);
    expect(stage('runtime')).toMatch(/^USER\s+node\s*$/m);
    expect(stage('api')).toMatch(/CMD \["node", "--enable-source-maps", "dist\/api\.mjs"\]/);
    expect(stage('api')).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(stage('worker')).toMatch(/CMD \["node", "--enable-source-maps", "dist\/worker\.mjs"\]/);
    expect(stage('worker')).toMatch(/EDGEPORT_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    expect(stage('portal')).toMatch(/COPY deploy\/nginx\.conf /);
  });

  it('the compiled api and worker import only production dependencies (test-only packages stay dev)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'edgeport-build-'));
    try {
      const { packages } = await buildApps(repo, out);
      const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      expect(packages.filter((p) => !(p in pkg.dependencies))).toEqual([]);
      expect(packages).toEqual(expect.arrayContaining(['@temporalio/worker', 'express', 'mongoose']));
      for (const testOnly of ['@temporalio/testing', 'oidc-provider', 'tsx']) expect(Object.keys(pkg.dependencies)).not.toContain(testOnly);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('serves the SPA with a history fallback and proxies /api and /auth to the api', () => {
    const nginx = read('deploy/nginx.conf');
    expect(nginx).toMatch(/set \$edgeport_api http:\/\/api:17250;/);
    expect(nginx).toMatch(/location \^~ \/api\/ \{[^}]*proxy_pass \$edgeport_api;/);
    expect(nginx).toMatch(/location \^~ \/auth\/ \{[^}]*proxy_pass \$edgeport_api;/);
    expect(nginx).toMatch(/try_files \$uri \$uri\/ \/index\.html;/);
    expect(nginx).toMatch(/listen 8080;/);
    expect(compose.services.portal!.ports).toEqual([`${example.EDGEPORT_HTTP_PORT}:8080`]);
    expect(compose.services.api!.environment!.EDGEPORT_API_PORT).toBe('17250');
  });

  it('sends the browser security headers of the API (same Content-Security-Policy) on the SPA and hides the copies the API sends', () => {
    const nginx = read('deploy/nginx.conf');
    // Server level, /assets/ and /index.html (locations with their own add_header do not inherit the server's).
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      expect(nginx.split(`add_header ${name} "${value}" always;`).length - 1, name).toBe(3);
      for (const loc of ['api', 'auth']) expect(nginx, `${loc}: ${name}`).toMatch(new RegExp(`location \\^~ /${loc}/ \\{[^}]*proxy_hide_header ${name};`));
    }
  });

  it('uses only files that exist', () => {
    for (const path of [
      'deploy/Dockerfile',
      'deploy/nginx.conf',
      'deploy/keycloak/edgeport-realm.json',
      'portal/vite.config.ts',
      'api/main.ts',
      'worker/main.ts',
      'stack/build.ts',
      'stack/lib/app-build.ts',
    ]) {
      expect(existsSync(join(repo, path)), path).toBe(true);
    }
  });
});
