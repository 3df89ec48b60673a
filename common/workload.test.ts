import { describe, expect, it } from 'vitest';
import { podCount, tolerates, volumeBytes, WorkloadDeployRequestSchema, WorkloadSpecSchema } from './workload.ts';

const base = { kind: 'Deployment', name: 'web', containers: [{ name: 'web', image: 'nginx:1' }] };
const svc = { type: 'ClusterIP', port: 80 };

describe('workload spec validation names the field', () => {
  it.each([
    ['an unknown kind', { ...base, kind: 'DaemonSet' }, 'kind'],
    ['a nodePort on a ClusterIP Service', { ...base, service: { ...svc, nodePort: 30080 } }, 'service.nodePort'],
    ['an Ingress without a Service', { ...base, ingress: { host: 'shop.example.com' } }, 'ingress'],
    ['an Ingress host that is no DNS name', { ...base, service: svc, ingress: { host: 'Shop Example' } }, 'ingress.host'],
    ['a relative Ingress path', { ...base, service: svc, ingress: { host: 'a.example.com', path: 'api' } }, 'ingress.path'],
    ['a timeout of zero', { ...base, service: svc, ingress: { host: 'a.example.com', readTimeoutSeconds: 0 } }, 'ingress.readTimeoutSeconds'],
    ['a body size with a unit nginx does not know', { ...base, service: svc, ingress: { host: 'a.example.com', bodySize: '10MB' } }, 'ingress.bodySize'],
    [
      'a TLS secret name that is no DNS label',
      { ...base, service: svc, ingress: { host: 'a.example.com', tlsSecretName: 'Shop_TLS' } },
      'ingress.tlsSecretName',
    ],
    ['a CronJob without a schedule', { ...base, kind: 'CronJob' }, 'schedule'],
    ['a schedule on a Deployment', { ...base, schedule: '@hourly' }, 'schedule'],
    ['a malformed schedule', { ...base, kind: 'CronJob', schedule: 'every hour' }, 'schedule'],
    ['job settings on a Deployment', { ...base, job: { completions: 2 } }, 'job'],
    ['a Service on a Job', { ...base, kind: 'Job', service: svc }, 'service'],
    ['an HPA on a CronJob', { ...base, kind: 'CronJob', schedule: '@daily', hpa: { minReplicas: 1, maxReplicas: 2, cpuPercent: 50 } }, 'hpa'],
    ['a strategy on a Job', { ...base, kind: 'Job', strategy: 'Recreate' }, 'strategy'],
    ['a Job restart policy Kubernetes does not allow', { ...base, kind: 'Job', job: { restartPolicy: 'Always' } }, 'job.restartPolicy'],
    ['affinity to a name that is no DNS label', { ...base, affinity: [{ workload: 'DB', type: 'affinity' }] }, 'affinity.0.workload'],
    ['an unknown affinity type', { ...base, affinity: [{ workload: 'db', type: 'near' }] }, 'affinity.0.type'],
    ['a bad topology key', { ...base, affinity: [{ workload: 'db', type: 'affinity', topologyKey: 'a b' }] }, 'affinity.0.topologyKey'],
    ['a pool that is no DNS label', { ...base, pool: 'Edge 1' }, 'pool'],
    ['a toleration without a key (it would tolerate every taint)', { ...base, tolerations: [{ operator: 'Exists' }] }, 'tolerations.0.key'],
    ['a toleration key that is no label key', { ...base, tolerations: [{ key: 'a b' }] }, 'tolerations.0.key'],
    ['an unknown toleration operator', { ...base, tolerations: [{ key: 'a', operator: 'In' }] }, 'tolerations.0.operator'],
    ['an unknown taint effect', { ...base, tolerations: [{ key: 'a', effect: 'Sometimes' }] }, 'tolerations.0.effect'],
    ['a value with operator Exists', { ...base, tolerations: [{ key: 'a', operator: 'Exists', value: 'x' }] }, 'tolerations.0.value'],
    [
      'tolerationSeconds without NoExecute',
      { ...base, tolerations: [{ key: 'a', effect: 'NoSchedule', tolerationSeconds: 60 }] },
      'tolerations.0.tolerationSeconds',
    ],
    [
      'tolerationSeconds above a week',
      { ...base, tolerations: [{ key: 'a', effect: 'NoExecute', tolerationSeconds: 604_801 }] },
      'tolerations.0.tolerationSeconds',
    ],
    ['more than 16 tolerations', { ...base, tolerations: Array.from({ length: 17 }, (_, i) => ({ key: `k${i}` })) }, 'tolerations'],
    ['more than 16 node selector entries', { ...base, nodeSelector: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'nodeSelector'],
  ])('refuses %s', (_n, spec, field) => {
    const r = WorkloadSpecSchema.safeParse(spec);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('accepts a LoadBalancer Service with an Ingress, a Job, a CronJob and affinity', () => {
    for (const spec of [
      {
        ...base,
        service: { type: 'LoadBalancer', port: 443, nodePort: 30443 },
        ingress: { host: 'shop.example.com', tlsSecretName: 'shop-tls', connectTimeoutSeconds: 5, bodySize: '0' },
      },
      { ...base, kind: 'Job', job: { completions: 3, parallelism: 2, backoffLimit: 0, restartPolicy: 'Never' } },
      { ...base, kind: 'CronJob', schedule: '*/5 * * * *' },
      {
        ...base,
        affinity: [
          { workload: 'db', type: 'affinity', required: true },
          { workload: 'web', type: 'anti-affinity', topologyKey: 'topology.kubernetes.io/zone' },
        ],
      },
    ]) {
      expect(WorkloadSpecSchema.safeParse(spec).error).toBeUndefined();
    }
  });

  it('nests the field under workload in a deploy request', () => {
    const r = WorkloadDeployRequestSchema.safeParse({ type: 'workload-deploy', vdcId: 'a', workload: { ...base, kind: 'CronJob' } });
    expect(r.error?.issues[0]?.path).toEqual(['workload', 'schedule']);
  });
});

describe('tolerations', () => {
  it("accepts the join taints' tolerations and matches taints as the scheduler does", () => {
    const spec = WorkloadSpecSchema.parse({
      ...base,
      pool: 'edge-1',
      nodeSelector: { 'kubernetes.io/arch': 'arm64', 'edgeport.io/vdc': 'a' },
      tolerations: [
        { key: 'edgeport.io/dedicated', operator: 'Equal', value: 'a', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
      ],
    });
    const [equal, exists] = spec.tolerations!;
    expect(tolerates(equal!, { key: 'edgeport.io/dedicated', value: 'a', effect: 'NoSchedule' })).toBe(true);
    expect(tolerates(equal!, { key: 'edgeport.io/dedicated', value: 'b', effect: 'NoSchedule' })).toBe(false);
    expect(tolerates(equal!, { key: 'edgeport.io/dedicated', value: 'a', effect: 'NoExecute' })).toBe(false);
    expect(tolerates(exists!, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' })).toBe(true);
    expect(tolerates({ key: 'k' }, { key: 'k', effect: 'PreferNoSchedule' })).toBe(true);
    expect(tolerates({ key: 'k', value: 'v' }, { key: 'k', effect: 'NoSchedule' })).toBe(false);
  });
});

describe('podCount and volumeBytes', () => {
  it("counts replicas, the HPA maximum, or a Job's parallelism", () => {
    expect(podCount(WorkloadSpecSchema.parse({ ...base, replicas: 3 }))).toBe(3);
    expect(podCount(WorkloadSpecSchema.parse({ ...base, hpa: { minReplicas: 1, maxReplicas: 5, cpuPercent: 50 } }))).toBe(5);
    expect(podCount(WorkloadSpecSchema.parse({ ...base, kind: 'Job', job: { parallelism: 4 } }))).toBe(4);
    expect(podCount(WorkloadSpecSchema.parse({ ...base, kind: 'CronJob', schedule: '@daily' }))).toBe(1);
  });
  it('parses binary sizes', () => {
    expect(volumeBytes('1Gi')).toBe(2 ** 30);
    expect(volumeBytes('1536Mi')).toBeGreaterThan(volumeBytes('1Gi'));
    expect(volumeBytes('1G')).toBeNaN();
  });
});
