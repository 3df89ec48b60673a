import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Document, parseAllDocuments } from 'yaml';
import { createKubeClients } from '../infra/kube/client.ts';
import { loadApiConfig } from '../api/config.ts';
import { SECURITY_HEADERS } from '../api/security-headers.ts';
import { loadWorkerConfig } from '../worker/config.ts';
import { loadStackConfig } from '../stack/lib/config.ts';
import { CSR_APPROVER_RULES } from '../stack/servers/kube/objects.ts';
import { KUBE_VERSIONS, kubeLayout } from '../stack/servers/kube/layout.ts';
import { stackEnv, uniqueName } from '../stack/testing/env.ts';

/**
 * The Helm chart (deploy/helm/edgeport): `helm lint`, `helm template` with the default values and with
 * every option on, each rendered object accepted by the local kube-apiserver in a server-side dry-run, the
 * deployment rules (replicas/HPA, probes, resources, PDBs, secrets only by reference) and the worker's
 * RBAC (no wildcards, no escalate / impersonate; `bind` only on the tenant ClusterRoles admin/edit/view, and
 * none with rbac.allowTenantRoleBindings=false), and the pool identity manifest granting a pool the same.
 * helm itself is built from the Go module proxy by stack/scripts/build-helm.sh and cached by version.
 */

const repo = join(import.meta.dirname, '..');
const chart = join(repo, 'deploy', 'helm', 'edgeport');
type Obj = KubernetesObject & Record<string, any>;
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

let helm = '';
const namespace = uniqueName('helm');
const ALL_ON = [
  'rbac.allowTenantRoleBindings=true',
  'worker.kubeconfigSecret=target-kubeconfig',
  'secrets.registryTokenSecret=registry-token',
  'api.ingress.enabled=true',
  'config.registryUrl=https://harbor.example.org',
];
const ALL_OFF = [
  'api.autoscaling.enabled=false',
  'worker.autoscaling.enabled=false',
  'api.podDisruptionBudget.enabled=false',
  'worker.podDisruptionBudget.enabled=false',
];

function renderDocs(sets: string[] = []): Document.Parsed[] {
  const out = execFileSync(
    helm,
    ['template', 'ep', chart, '--namespace', namespace, '--kube-version', KUBE_VERSIONS.kube, ...sets.flatMap((s) => ['--set', s])],
    { encoding: 'utf8' },
  );
  const docs = parseAllDocuments(out);
  if (!Array.isArray(docs)) throw new Error('helm template printed no YAML documents');
  return docs.filter((d) => d.contents !== null);
}
function render(sets: string[] = []): Obj[] {
  return renderDocs(sets).map((d) => d.toJS() as Obj);
}
const ofKind = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);
const named = (objs: Obj[], kind: string, suffix: string): Obj => objs.find((o) => o.kind === kind && o.metadata!.name!.endsWith(suffix))!;

let kube: ReturnType<typeof createKubeClients>;

beforeAll(() => {
  // Cold: builds helm from source (minutes); warm: prints the cached folder.
  helm = join(execFileSync('bash', [join(repo, 'stack', 'scripts', 'build-helm.sh')], { encoding: 'utf8' }).trim(), 'bin', 'helm');
  kube = createKubeClients(stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'));
}, 1_800_000);

afterAll(async () => {
  await kube?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('helm chart deploy/helm/edgeport', () => {
  it('lints and renders with the default values and with every option on or off', () => {
    expect(execFileSync(helm, ['lint', chart, '--kube-version', KUBE_VERSIONS.kube], { encoding: 'utf8' })).toMatch(/0 chart\(s\) failed/);
    const kinds = render()
      .map((o) => o.kind)
      .sort();
    expect(kinds).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'ConfigMap',
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'Deployment',
      'Deployment',
      'HorizontalPodAutoscaler',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'Service',
      'ServiceAccount',
    ]);
    expect(render(ALL_ON).map((o) => o.kind)).toContain('Ingress');
    expect(render(ALL_OFF).map((o) => o.kind)).not.toContain('HorizontalPodAutoscaler');
  });

  it('every rendered object passes a server-side dry-run (strict field validation) on the local kube-apiserver', async () => {
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    const kubectl = join(kubeLayout(loadStackConfig('test')).binDir, 'kubectl');
    let checked = 0;
    for (const sets of [[], ALL_ON, ALL_OFF]) {
      const docs = renderDocs(sets);
      // The source text of each document (re-serialising could change how YAML 1.1 reads a scalar).
      for (const ns of [namespace, 'kube-system']) {
        const mine = docs.filter((d) => ((d.toJS() as Obj).metadata?.namespace ?? namespace) === ns);
        // Unknown or duplicate fields are errors (not warnings) with --validate=strict.
        const out = execFileSync(
          kubectl,
          ['--kubeconfig', stackEnv('EDGEPORT_KUBE_ADMIN_KUBECONFIG'), 'create', '--dry-run=server', '--validate=strict', '-n', ns, '-f', '-'],
          { input: mine.map((d) => d.toString()).join('---\n'), encoding: 'utf8' },
        );
        const accepted = out.split('\n').filter((l) => l.endsWith('(server dry run)'));
        expect(accepted.length, out).toBe(mine.length);
        checked += accepted.length;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(35);
  });

  it('runs api and worker with replicas or an HPA, probes, resources, PDBs and secrets only from existing Secrets', () => {
    const objs = render();
    for (const component of ['api', 'worker']) {
      const d = named(objs, 'Deployment', `-${component}`);
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(c.resources.requests.cpu, component).toBeDefined();
      expect(c.resources.limits.memory, component).toBeDefined();
      expect(c.livenessProbe, component).toBeDefined();
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      const hpa = named(objs, 'HorizontalPodAutoscaler', `-${component}`);
      expect(hpa.spec.scaleTargetRef.name).toBe(d.metadata!.name);
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      const pdb = named(objs, 'PodDisruptionBudget', `-${component}`);
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      // Secrets by reference only: no env var whose name says secret carries a literal value.
      for (const e of c.env as { name: string; value?: string; valueFrom?: unknown }[]) {
        if (/SECRET|_KEY$|MONGO_URL|REDIS_URL/.test(e.name))
          expect(e.valueFrom, `${component} ${e.name}`).toMatchObject({ secretKeyRef: { name: 'edgeport-secrets' } });
      }
      const withReplicas = named(render(ALL_OFF), 'Deployment', `-${component}`);
      expect(withReplicas.spec.replicas).toBe(2);
    }
    const api = named(objs, 'Deployment', '-api').spec.template.spec;
    // Readiness follows the dependencies (/readyz), liveness the process alone (/healthz): an outage
    // takes pods out of the Service without restarting them.
    expect(api.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(api.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
    expect(api.automountServiceAccountToken).toBe(false);
    const worker = named(objs, 'Deployment', '-worker').spec.template.spec.containers[0];
    expect(worker.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(worker.ports).toEqual([{ name: 'health', containerPort: 17251, protocol: 'TCP' }]);
    const workerEnv = Object.fromEntries((worker.env as { name: string; value?: string }[]).map((e) => [e.name, e]));
    expect(workerEnv.EDGEPORT_WORKER_HEALTH_PORT?.value).toBe('17251');
    expect(workerEnv.EDGEPORT_WORKER_HEALTH_HOST?.value).toBe('0.0.0.0');
    // The worker runs the BullMQ jobs (reports, scheduled ledger verify, report-file sweep): it needs Redis.
    expect(workerEnv.EDGEPORT_REDIS_URL).toMatchObject({ valueFrom: { secretKeyRef: { name: 'edgeport-secrets', key: 'redis-url' } } });
    expect(ofKind(objs, 'Secret')).toEqual([]);
  });

  it('serves the portal from nginx (non-root, read-only, probed); the Ingress sends /api, /auth, /healthz to the api and the rest to the portal', () => {
    const objs = render(ALL_ON);
    const d = named(objs, 'Deployment', '-portal');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toMatch(/edgeport-portal:/);
    expect(c.readinessProbe.httpGet.path).toBe('/nginx-health');
    expect(c.livenessProbe.httpGet.path).toBe('/nginx-health');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101 });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.volumeMounts).toContainEqual({ name: 'nginx-conf', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf', readOnly: true });
    const conf = named(objs, 'ConfigMap', '-portal-nginx').data['nginx.conf'] as string;
    expect(conf).toContain('try_files $uri $uri/ /index.html;');
    expect(conf).not.toContain('proxy_pass');
    // The API's browser security headers, with the same Content-Security-Policy, in every location that sets headers.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(conf.split(`add_header ${name} "${value}" always;`).length - 1, name).toBe(3);
    expect(named(objs, 'PodDisruptionBudget', '-portal').spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
    const paths = (ingress: Obj) =>
      (ingress.spec.rules[0].http.paths as { path: string; backend: { service: { name: string } } }[]).map((p) => [p.path, p.backend.service.name]);
    expect(paths(named(objs, 'Ingress', '-api'))).toEqual([
      ['/api', 'ep-edgeport-api'],
      ['/auth', 'ep-edgeport-api'],
      ['/healthz', 'ep-edgeport-api'],
      ['/', 'ep-edgeport-portal'],
    ]);
    // Without the portal (its files served elsewhere), the Ingress sends everything to the api.
    const bare = render([...ALL_ON, 'portal.enabled=false']);
    expect(bare.filter((o) => o.metadata!.name!.includes('portal'))).toEqual([]);
    expect(paths(named(bare, 'Ingress', '-api'))).toEqual([['/', 'ep-edgeport-api']]);
  });

  it('gives the api and worker every setting their config loaders require (secrets from the Secret)', () => {
    const objs = render(ALL_ON);
    const config = (named(objs, 'ConfigMap', '-config').data ?? {}) as Record<string, string>;
    const secretRefs: string[] = [];
    const envOf = (component: string): Record<string, string> => {
      const c = named(objs, 'Deployment', `-${component}`).spec.template.spec.containers[0];
      const env: Record<string, string> = { ...config };
      for (const e of c.env as { name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }[]) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.secretKeyRef) {
          secretRefs.push(e.valueFrom.secretKeyRef.key);
          // What an operator puts in the Secret (README): the same shapes the loaders check.
          env[e.name] =
            e.name === 'EDGEPORT_MONGO_URL'
              ? 'mongodb://u:p@mongo-0:27017/edgeport?replicaSet=rs0'
              : e.name === 'EDGEPORT_REDIS_URL'
                ? 'redis://:p@redis:6379/0'
                : e.name === 'EDGEPORT_CREDENTIALS_KEY'
                  ? Buffer.alloc(32, 7).toString('base64')
                  : 's'.repeat(48);
        }
      }
      return env;
    };
    const api = loadApiConfig(envOf('api'));
    expect(api).toMatchObject({ host: '0.0.0.0', port: 17250, publicUrl: 'https://edgeport.example.org', secureCookies: true, poolReadTimeoutMs: 3000 });
    // Tenant reads (workloads, pods, events, logs, claims, usage) use each pool's read-only identity from
    // MongoDB, opened with the credentials key: the api needs no kubeconfig, so those routes are mounted here too.
    expect(Object.keys(envOf('api'))).not.toContain('EDGEPORT_KUBECONFIG');
    const worker = loadWorkerConfig(envOf('worker'));
    // The worker reaches every pool with that pool's sealed credentials (27438f5): its config takes no kubeconfig.
    expect(worker).toMatchObject({ taskQueue: api.taskQueue, temporalAddress: api.temporalAddress });
    expect(new Set(secretRefs)).toEqual(new Set(['mongo-url', 'redis-url', 'oidc-client-secret', 'session-secret', 'credentials-key']));
  });

  it('gives the worker RBAC without wildcards, escalate or impersonate (bind only on the named tenant roles, and off on request)', () => {
    const rulesOf = (objs: Obj[]): Rule[] => [...ofKind(objs, 'ClusterRole'), ...ofKind(objs, 'Role')].flatMap((r) => r.rules as Rule[]);
    const problems = (rules: Rule[]): string[] =>
      rules.flatMap((r) => {
        const out: string[] = [];
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'] as const) {
          if ((r[field] ?? []).some((v) => v.includes('*'))) out.push(`wildcard in ${field}: ${JSON.stringify(r)}`);
        }
        for (const v of ['escalate', 'bind', 'impersonate']) if (r.verbs.includes(v)) out.push(`${v}: ${JSON.stringify(r)}`);
        if (r.nonResourceURLs) out.push(`non-resource URLs: ${JSON.stringify(r)}`);
        return out;
      });
    const defaults = rulesOf(render());
    const tenantBind = [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['admin', 'edit', 'view'] }];
    expect(defaults.filter((r) => r.verbs.includes('bind'))).toEqual(tenantBind);
    expect(problems(defaults.filter((r) => !r.verbs.includes('bind')))).toEqual([]);
    expect(problems(rulesOf(render(['rbac.allowTenantRoleBindings=false'])))).toEqual([]);
    // What the activities call, and nothing that reads across the cluster beyond it.
    const grants = new Set(
      defaults.flatMap((r) => r.apiGroups!.flatMap((g) => r.resources!.flatMap((res) => r.verbs.map((v) => `${g || 'core'}/${res}:${v}`)))),
    );
    for (const need of [
      'core/namespaces:create',
      'core/namespaces:delete',
      'core/resourcequotas:patch',
      'core/limitranges:patch',
      'rbac.authorization.k8s.io/rolebindings:patch',
      'apps/deployments:patch',
      'core/nodes:patch',
      'core/secrets:delete',
      'core/serviceaccounts:patch',
      'rbac.authorization.k8s.io/rolebindings:create',
      'coordination.k8s.io/leases:get',
    ])
      expect(grants, need).toContain(need);
    for (const never of [
      'rbac.authorization.k8s.io/clusterroles:create',
      'rbac.authorization.k8s.io/roles:create',
      'core/serviceaccounts:create',
      'core/pods:create',
      'core/pods:delete',
    ])
      expect(grants, never).not.toContain(never);
    const leases = ofKind(render(), 'Role')[0]!;
    expect(leases.metadata!.namespace).toBe('kube-system');
    expect((leases.rules as Rule[])[0]!.resourceNames).toEqual(['kube-controller-manager', 'kube-scheduler']);

    const opted = rulesOf(render(ALL_ON));
    expect(opted.filter((r) => r.verbs.includes('bind'))).toEqual(tenantBind);
    expect(problems(opted.filter((r) => !r.verbs.includes('bind')))).toEqual([]);
  });

  it('the pool identity manifest (deploy/pool-identity.yaml) grants a pool exactly what the chart grants the worker', () => {
    const docs = parseAllDocuments(readFileSync(join(repo, 'deploy', 'pool-identity.yaml'), 'utf8'));
    const objs = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as Obj);
    const key = (rules: Rule[]): string[] => rules.map((r) => JSON.stringify([r.apiGroups, r.resources, r.verbs, r.resourceNames ?? null])).sort();
    expect(key(ofKind(objs, 'ClusterRole')[0]!.rules as Rule[])).toEqual(key(ofKind(render(), 'ClusterRole')[0]!.rules as Rule[]));
    expect(key(ofKind(objs, 'Role')[0]!.rules as Rule[])).toEqual(key(ofKind(render(), 'Role')[0]!.rules as Rule[]));
    expect(ofKind(objs, 'Secret')[0]).toMatchObject({ type: 'kubernetes.io/service-account-token' });
  });

  it("node join: chart, pool identity and the stack let the worker decide kubelet-client CSRs and bind the join tokens' group to system:node-bootstrapper only", () => {
    const docs = parseAllDocuments(readFileSync(join(repo, 'deploy', 'pool-identity.yaml'), 'utf8'));
    const identity = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as Obj);
    const csrRules = (rules: Rule[]): string[] =>
      rules
        .filter((r) => r.apiGroups?.includes('certificates.k8s.io'))
        .map((r) => JSON.stringify([r.apiGroups, r.resources, r.verbs, r.resourceNames ?? null]))
        .sort();
    const stack = csrRules(CSR_APPROVER_RULES as Rule[]);
    expect(stack).toHaveLength(3);
    expect(csrRules(ofKind(render(), 'ClusterRole')[0]!.rules as Rule[])).toEqual(stack);
    expect(csrRules(ofKind(identity, 'ClusterRole')[0]!.rules as Rule[])).toEqual(stack);
    for (const objs of [render(), identity]) {
      const bootstrap = ofKind(objs, 'ClusterRoleBinding').filter((b) => b.subjects?.some((s: { kind: string }) => s.kind === 'Group'));
      expect(bootstrap.map((b) => [b.metadata!.name!.endsWith('node-bootstrapper'), b.roleRef, b.subjects])).toEqual([
        [
          true,
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' },
          [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:bootstrappers:edgeport' }],
        ],
      ]);
    }
  });
});
