import {
  RegistryNotFound,
  RegistryRefused,
  splitRepository,
  type CreatedRobot,
  type ImageDetail,
  type RegistryDriver,
  type RegistryNamespace,
  type RobotAccount,
  type ScanSummary,
  type Severity,
} from './driver.ts';

/**
 * Registry driver over Harbor's REST API v2.0 (`/api/v2.0`): a project per VDC plus `public`, robot accounts
 * per project with an expiry, artifacts (list, detail, copy, tag, delete), scan trigger and scan report,
 * project settings (`public`, `prevent_vul` + `severity`, `auto_scan`) and the project storage quota.
 * Edgeport repository `vdc-a/app` is Harbor project `vdc-a`, repository `app`.
 *
 * Tested against Harbor's published OpenAPI document (see `harbor-driver.test.ts`); a real Harbor does not run
 * here. Statuses are mapped here once: 404 → RegistryNotFound, other 4xx → RegistryRefused (non-retryable),
 * 5xx and network errors stay plain errors (retried).
 */
export interface HarborDriverDeps {
  /** Harbor's base URL, e.g. `https://harbor.example.com` (the API lives under `/api/v2.0`). */
  url: string;
  /** Basic credentials (an admin or a system robot). Secret: never logged. */
  username: string;
  password: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Harbor's Artifact (the fields the driver reads). */
interface HarborArtifact {
  digest?: string;
  size?: number;
  manifest_media_type?: string;
  media_type?: string;
  push_time?: string;
  extra_attrs?: Record<string, unknown>;
  references?: { child_digest?: string; platform?: { architecture?: string; os?: string; variant?: string } }[];
  tags?: { name?: string; signed?: boolean }[] | null;
  scan_overview?: Record<
    string,
    {
      scan_status?: string;
      severity?: string;
      summary?: { total?: number; fixable?: number; summary?: Record<string, number> };
      end_time?: string;
      scanner?: { name?: string; version?: string };
    }
  >;
}

interface HarborProject {
  project_id?: number;
  name?: string;
  metadata?: { public?: string; prevent_vul?: string; severity?: string };
}

/** One vulnerability of Harbor's native report (`application/vnd.security.vulnerability.report; version=1.1`). */
export interface HarborFinding {
  id: string;
  package: string;
  version: string;
  fixVersion?: string;
  severity: Severity;
}

const PAGE_SIZE = 100;
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
export const HARBOR_REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';

const severityOf = (s: string | undefined): Severity => {
  const known: Record<string, Severity> = {
    none: 'None',
    unknown: 'Unknown',
    negligible: 'Low',
    low: 'Low',
    medium: 'Medium',
    high: 'High',
    critical: 'Critical',
  };
  return known[(s ?? 'unknown').toLowerCase()] ?? 'Unknown';
};

/** The Harbor driver has every optional operation of the interface. */
export type HarborDriver = RegistryDriver &
  Required<
    Pick<RegistryDriver, 'ensureNamespace' | 'getNamespace' | 'createRobot' | 'listRobots' | 'deleteRobot' | 'triggerScan' | 'scanSummary' | 'setStorageLimit'>
  > & {
    scanFindings(repository: string, reference: string): Promise<HarborFinding[]>;
    /** Every project the credentials can see (a third-party registry's browse root; also the credentials check). */
    listProjects(opts?: { limit?: number }): Promise<HarborProjectSummary[]>;
    /**
     * Extends a robot to expire `durationDays` from now and gives it a new secret (returned once: the caller
     * seals it). Harbor recomputes `expires_at` from the creation time and the duration, so the duration set is
     * the robot's age in days plus `durationDays`; the old secret stops working at once.
     * @throws RegistryNotFound when the robot does not exist.
     */
    refreshRobot(id: number, durationDays: number): Promise<CreatedRobot>;
    /**
     * Deletes a project with everything in it: its repositories first (Harbor refuses, 412, to delete a project
     * holding any), then the project (its project-level robots go with it). An absent project is `false`, so a
     * retry after a partial run finishes the job. @throws RegistryRefused when Harbor still refuses.
     */
    deleteNamespace(name: string): Promise<{ deleted: boolean }>;
  };

/** A project as listed by {@link HarborDriver.listProjects}. */
export interface HarborProjectSummary {
  name: string;
  public: boolean;
  repoCount: number;
}

export function harborDriver(deps: HarborDriverDeps): HarborDriver {
  const doFetch = deps.fetch ?? fetch;
  const api = `${deps.url.replace(/\/+$/, '')}/api/v2.0`;
  const auth = `Basic ${Buffer.from(`${deps.username}:${deps.password}`).toString('base64')}`;

  async function call(method: string, path: string, opts: { body?: unknown; ok?: number[]; headers?: Record<string, string> } = {}): Promise<Response> {
    const res = await doFetch(`${api}${path}`, {
      method,
      headers: {
        authorization: auth,
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(deps.timeoutMs ?? 30_000),
    });
    if (res.ok || opts.ok?.includes(res.status)) return res;
    const text = await res.text().catch(() => '');
    const message = (() => {
      try {
        return ((JSON.parse(text) as { errors?: { message?: string }[] }).errors ?? []).map((e) => e.message).join('; ');
      } catch {
        return '';
      }
    })();
    const where = `${method} ${path.split('?')[0]}`;
    if (res.status === 404) throw new RegistryNotFound(`harbor: ${where} not found${message ? `: ${message}` : ''}`);
    if (res.status >= 400 && res.status < 500) throw new RegistryRefused(`harbor refused ${where} (${res.status})${message ? `: ${message}` : ''}`, res.status);
    throw new Error(`harbor answered ${res.status} for ${where}`);
  }
  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

  /** Harbor wants a repository name with `/` encoded twice in the path (`a/b` → `a%252Fb`). */
  const repoPath = (repository: string): string => {
    const { namespace, name } = splitRepository(repository);
    return `/projects/${encodeURIComponent(namespace)}/repositories/${encodeURIComponent(encodeURIComponent(name))}`;
  };
  const byName = { 'X-Is-Resource-Name': 'true' };

  async function paged<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const items = await json<T[]>(await call('GET', `${path}${sep}page=${page}&page_size=${PAGE_SIZE}`));
      out.push(...items);
      if (items.length < PAGE_SIZE) return out;
    }
  }

  async function artifact(repository: string, reference: string): Promise<HarborArtifact> {
    return json<HarborArtifact>(await call('GET', `${repoPath(repository)}/artifacts/${encodeURIComponent(reference)}?with_tag=true&with_scan_overview=true`));
  }

  /** HEAD first: the contract defines 404 for `headProject`, not for `getProject`. */
  async function project(name: string): Promise<HarborProject | null> {
    const head = await call('HEAD', `/projects?project_name=${encodeURIComponent(name)}`, { ok: [404] });
    await head.body?.cancel();
    if (head.status === 404) return null;
    return json<HarborProject>(await call('GET', `/projects/${encodeURIComponent(name)}`, { headers: byName }));
  }

  function summaryOf(a: HarborArtifact): ScanSummary {
    const report = Object.values(a.scan_overview ?? {})[0];
    if (!report) return { status: 'NotScanned', severity: 'Unknown', counts: {}, total: 0 };
    const counts: ScanSummary['counts'] = {};
    for (const [k, v] of Object.entries(report.summary?.summary ?? {})) counts[severityOf(k)] = (counts[severityOf(k)] ?? 0) + v;
    const status = (['Success', 'Running', 'Pending', 'Error'] as const).find((s) => s === report.scan_status) ?? 'Pending';
    return {
      status,
      severity: (report.summary?.total ?? 0) === 0 && status === 'Success' ? 'None' : severityOf(report.severity),
      counts,
      total: report.summary?.total ?? 0,
      ...(report.summary?.fixable !== undefined ? { fixable: report.summary.fixable } : {}),
      ...(report.scanner?.name ? { scanner: `${report.scanner.name} ${report.scanner.version ?? ''}`.trim() } : {}),
      ...(report.end_time ? { finishedAt: report.end_time } : {}),
    };
  }

  async function projectId(name: string): Promise<number> {
    const p = await project(name);
    if (!p?.project_id) throw new RegistryNotFound(`harbor project ${name} not found`);
    return p.project_id;
  }

  async function setStorageLimit(namespace: string, bytes: number): Promise<void> {
    const id = await projectId(namespace);
    const quotas = await json<{ id?: number }[]>(await call('GET', `/quotas?reference=project&reference_id=${id}`));
    const quota = quotas[0]?.id;
    if (quota === undefined) throw new RegistryNotFound(`harbor has no quota for project ${namespace}`);
    await (await call('PUT', `/quotas/${quota}`, { body: { hard: { storage: bytes } } })).body?.cancel();
  }

  const driver: HarborDriver = {
    kind: 'harbor',
    capabilities: ['namespaces', 'robots', 'scan', 'quota'],

    async listRepositories(namespace) {
      const repos = await paged<{ name?: string; artifact_count?: number }>(
        namespace === undefined ? '/repositories' : `/projects/${encodeURIComponent(namespace)}/repositories`,
      );
      return repos
        .filter((r) => r.name && (r.artifact_count ?? 1) > 0)
        .map((r) => r.name as string)
        .sort();
    },

    async signature(repository, digest) {
      const a = await json<HarborArtifact>(
        await call('GET', `${repoPath(repository)}/artifacts/${encodeURIComponent(digest)}?with_tag=true&with_signature=true`),
      );
      return { signed: a.tags?.some((t) => t.signed === true) ?? false };
    },

    async listTags(repository) {
      try {
        const arts = await paged<HarborArtifact>(`${repoPath(repository)}/artifacts?with_tag=true`);
        return arts
          .flatMap((a) => (a.tags ?? []).map((t) => t.name ?? ''))
          .filter(Boolean)
          .sort();
      } catch (err) {
        if (err instanceof RegistryNotFound) return [];
        throw err;
      }
    },

    async getImage(repository, reference) {
      const a = await artifact(repository, reference);
      const mediaType = a.manifest_media_type ?? a.media_type ?? '';
      const multiArch = INDEX_TYPES.includes(mediaType);
      const platforms: ImageDetail['platforms'] = [];
      if (multiArch) {
        for (const ref of a.references ?? []) {
          if (!ref.child_digest || !ref.platform?.architecture || ref.platform.architecture === 'unknown') continue;
          const child = await artifact(repository, ref.child_digest);
          platforms.push({
            os: ref.platform.os ?? 'unknown',
            architecture: ref.platform.architecture,
            ...(ref.platform.variant ? { variant: ref.platform.variant } : {}),
            digest: ref.child_digest,
            size: child.size ?? 0,
            layers: [],
          });
        }
      } else {
        const attrs = a.extra_attrs ?? {};
        platforms.push({
          os: typeof attrs.os === 'string' ? attrs.os : 'unknown',
          architecture: typeof attrs.architecture === 'string' ? attrs.architecture : 'unknown',
          digest: a.digest ?? '',
          size: a.size ?? 0,
          layers: [],
        });
      }
      return {
        repository,
        reference,
        digest: a.digest ?? '',
        mediaType,
        multiArch,
        size: a.size ?? 0,
        platforms,
        pushedAt: a.push_time ?? null,
        tags: (a.tags ?? []).map((t) => t.name ?? '').filter(Boolean),
      };
    },

    async deleteTag(repository, tag) {
      try {
        const a = await artifact(repository, tag);
        const digest = a.digest ?? tag;
        await (
          await call('DELETE', `${repoPath(repository)}/artifacts/${encodeURIComponent(digest)}/tags/${encodeURIComponent(tag)}`, { ok: [404] })
        ).body?.cancel();
        // An artifact left without tags still counts against the project quota: remove it too.
        if ((a.tags ?? []).every((t) => t.name === tag))
          await (await call('DELETE', `${repoPath(repository)}/artifacts/${encodeURIComponent(digest)}`, { ok: [404] })).body?.cancel();
      } catch (err) {
        if (!(err instanceof RegistryNotFound)) throw err;
      }
    },

    async deleteRepository(repository) {
      await call('DELETE', repoPath(repository), { ok: [404] });
    },

    async copyImage(from, to) {
      const res = await call('POST', `${repoPath(to.repository)}/artifacts?from=${encodeURIComponent(`${from.repository}@${from.digest}`)}`, { ok: [409] });
      await res.body?.cancel();
      const tagged = await call('POST', `${repoPath(to.repository)}/artifacts/${encodeURIComponent(from.digest)}/tags`, { body: { name: to.tag }, ok: [409] });
      await tagged.body?.cancel();
      return { digest: from.digest };
    },

    async ensureNamespace(ns: RegistryNamespace): Promise<{ created: boolean }> {
      const metadata = {
        public: String(ns.public),
        auto_scan: 'true',
        ...(ns.preventVulnerable ? { prevent_vul: String(ns.preventVulnerable.enabled), severity: ns.preventVulnerable.severity } : {}),
      };
      const existing = await call('HEAD', `/projects?project_name=${encodeURIComponent(ns.name)}`, { ok: [404] });
      if (existing.status === 404) {
        const res = await call('POST', '/projects', {
          body: { project_name: ns.name, metadata, ...(ns.storageLimitBytes !== undefined ? { storage_limit: ns.storageLimitBytes } : {}) },
          ok: [409],
        });
        await res.body?.cancel();
        return { created: res.status !== 409 };
      }
      await (await call('PUT', `/projects/${encodeURIComponent(ns.name)}`, { headers: byName, body: { metadata } })).body?.cancel();
      if (ns.storageLimitBytes !== undefined) await setStorageLimit(ns.name, ns.storageLimitBytes);
      return { created: false };
    },

    async getNamespace(name: string): Promise<RegistryNamespace | null> {
      const p = await project(name);
      if (!p) return null;
      const sev = p.metadata?.severity;
      return {
        name: p.name ?? name,
        public: p.metadata?.public === 'true',
        preventVulnerable: {
          enabled: p.metadata?.prevent_vul === 'true',
          severity: sev === 'low' || sev === 'medium' || sev === 'high' || sev === 'critical' || sev === 'none' ? sev : 'none',
        },
      };
    },

    async createRobot(namespace: string, opts: { name: string; durationDays: number; actions: ('pull' | 'push')[] }): Promise<CreatedRobot> {
      const created = await json<{ id?: number; name?: string; secret?: string; expires_at?: number }>(
        await call('POST', '/robots', {
          body: {
            name: opts.name,
            description: `Edgeport robot of ${namespace}`,
            level: 'project',
            disable: false,
            duration: opts.durationDays,
            permissions: [{ kind: 'project', namespace, access: opts.actions.map((action) => ({ resource: 'repository', action })) }],
          },
        }),
      );
      if (created.id === undefined || !created.secret) throw new Error('harbor created a robot without id or secret');
      return { id: created.id, name: created.name ?? opts.name, secret: created.secret, expiresAt: created.expires_at ?? -1 };
    },

    async listRobots(namespace: string): Promise<RobotAccount[]> {
      const id = await projectId(namespace);
      const robots = await paged<{ id?: number; name?: string; expires_at?: number; disable?: boolean }>(
        `/robots?q=${encodeURIComponent(`Level=project,ProjectID=${id}`)}`,
      );
      return robots
        .filter((r) => r.id !== undefined)
        .map((r) => ({ id: r.id as number, name: r.name ?? '', expiresAt: r.expires_at ?? -1, disabled: r.disable ?? false }));
    },

    async deleteNamespace(name: string): Promise<{ deleted: boolean }> {
      if (!(await project(name))) return { deleted: false };
      // Every repository, also those left without artifacts (listRepositories hides them; Harbor still counts them).
      const repositories = await paged<{ name?: string }>(`/projects/${encodeURIComponent(name)}/repositories`);
      for (const r of repositories) if (r.name) await driver.deleteRepository(r.name);
      const res = await call('DELETE', `/projects/${encodeURIComponent(name)}`, { headers: byName, ok: [404] });
      await res.body?.cancel();
      return { deleted: res.status !== 404 };
    },

    async deleteRobot(id: number): Promise<void> {
      await (await call('DELETE', `/robots/${id}`, { ok: [404] })).body?.cancel();
    },

    async triggerScan(repository: string, reference: string): Promise<void> {
      await (await call('POST', `${repoPath(repository)}/artifacts/${encodeURIComponent(reference)}/scan`)).body?.cancel();
    },

    async scanSummary(repository: string, reference: string): Promise<ScanSummary> {
      return summaryOf(await artifact(repository, reference));
    },

    async scanFindings(repository: string, reference: string): Promise<HarborFinding[]> {
      const res = await call('GET', `${repoPath(repository)}/artifacts/${encodeURIComponent(reference)}/additions/vulnerabilities`, {
        headers: { 'X-Accept-Vulnerabilities': HARBOR_REPORT_MIME },
      });
      const reports = (await res.json()) as Record<
        string,
        { vulnerabilities?: { id?: string; package?: string; version?: string; fix_version?: string; severity?: string }[] }
      >;
      return Object.values(reports).flatMap((r) =>
        (r.vulnerabilities ?? []).map((v) => ({
          id: v.id ?? '',
          package: v.package ?? '',
          version: v.version ?? '',
          ...(v.fix_version ? { fixVersion: v.fix_version } : {}),
          severity: severityOf(v.severity),
        })),
      );
    },

    setStorageLimit,

    async listProjects(opts = {}): Promise<HarborProjectSummary[]> {
      const limit = opts.limit ?? Number.POSITIVE_INFINITY;
      const out: HarborProjectSummary[] = [];
      for (let page = 1; out.length < limit; page++) {
        const size = Math.min(PAGE_SIZE, limit - out.length);
        const items = await json<(HarborProject & { repo_count?: number })[]>(await call('GET', `/projects?page=${page}&page_size=${size}&with_detail=true`));
        out.push(...items.filter((p) => p.name).map((p) => ({ name: p.name as string, public: p.metadata?.public === 'true', repoCount: p.repo_count ?? 0 })));
        if (items.length < size) break;
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },

    async refreshRobot(id: number, durationDays: number): Promise<CreatedRobot> {
      const robot = await json<{
        id?: number;
        name?: string;
        description?: string;
        level?: string;
        disable?: boolean;
        duration?: number;
        creation_time?: string;
        permissions?: unknown[];
      }>(await call('GET', `/robots/${id}`));
      const created = robot.creation_time ? Date.parse(robot.creation_time) : Date.now();
      const ageDays = Math.max(0, Math.ceil((Date.now() - created) / 86_400_000));
      const duration = ageDays + durationDays;
      await (
        await call('PUT', `/robots/${id}`, {
          body: {
            id,
            name: robot.name,
            description: robot.description ?? '',
            level: robot.level,
            disable: robot.disable ?? false,
            duration,
            permissions: robot.permissions ?? [],
          },
        })
      ).body?.cancel();
      const sec = await json<{ secret?: string }>(await call('PATCH', `/robots/${id}`, { body: {} }));
      if (!sec.secret) throw new Error(`harbor refreshed robot ${id} without a secret`);
      const after = await json<{ expires_at?: number; name?: string }>(await call('GET', `/robots/${id}`));
      return { id, name: after.name ?? robot.name ?? '', secret: sec.secret, expiresAt: after.expires_at ?? -1 };
    },
  };
  return driver;
}
