import { describe, expect, it } from 'vitest';
import type { WorkloadOperation } from '../common/workload-ops.ts';
import { WorkloadSpecSchema, type WorkloadSpec } from '../common/workload.ts';
import {
  decideWorkloadOperation,
  decideWorkloadOperationTicket,
  recordedVolumeUsers,
  specAfter,
  WORKLOAD_OPERATION_POLICY_VERSION,
  type WorkloadOperationPolicyInput,
} from './workload-operation.ts';

const ns = 'vdc-a';
const spec = (over: Record<string, unknown> = {}): WorkloadSpec =>
  WorkloadSpecSchema.parse({ kind: 'Deployment', name: 'web', replicas: 2, containers: [{ name: 'web', image: 'nginx:1' }], ...over });
const rwoSpec = spec({
  replicas: 1,
  strategy: 'Recreate',
  volumes: [{ name: 'data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
  containers: [{ name: 'web', image: 'nginx:1', volumeMounts: [{ volume: 'data', mountPath: '/d' }] }],
});
const svc = (over: Record<string, unknown> = {}) => ({ type: 'ClusterIP' as const, port: 80, ...over });
const withSvc = spec({ service: svc(), ingress: { host: 'web.example.com' } });
const base = (s: WorkloadSpec, operation: WorkloadOperation, over: Partial<WorkloadOperationPolicyInput> = {}): WorkloadOperationPolicyInput => ({
  operation,
  namespace: ns,
  spec: s,
  dayTwo: {},
  workloads: [{ namespace: ns, name: s.name, spec: s }],
  perReplica: { cpu: 0.1, memoryGi: 0.125 },
  quota: { hard: { cpu: 1, memoryGi: 2, pods: 5 }, used: { cpu: 0.2, memoryGi: 0.25, pods: 2 } },
  ...over,
});

describe('workload operation policy (version ' + WORKLOAD_OPERATION_POLICY_VERSION + ')', () => {
  it.each([
    ['scale within quota', base(spec(), { op: 'scale', replicas: 4 }), 'direct', undefined],
    ['scale down', base(spec(), { op: 'scale', replicas: 1 }), 'direct', undefined],
    ['scale past the pod quota', base(spec(), { op: 'scale', replicas: 6 }), 'deny', 'operation.replicas'],
    ['scale past the cpu quota', base(spec(), { op: 'scale', replicas: 5 }, { perReplica: { cpu: 0.3, memoryGi: 0.1 } }), 'deny', 'operation.replicas'],
    ['scale without a quota', base(spec(), { op: 'scale', replicas: 50 }, { quota: undefined }), 'direct', undefined],
    ['scale an RWO workload to 2', base(rwoSpec, { op: 'scale', replicas: 2 }), 'deny', 'operation.replicas'],
    [
      'scale an HPA workload',
      base(spec({ hpa: { minReplicas: 1, maxReplicas: 3, cpuPercent: 50 } }), { op: 'scale', replicas: 2 }),
      'deny',
      'operation.replicas',
    ],
    ['scale a Job', base(spec({ kind: 'Job' }), { op: 'scale', replicas: 2 }), 'deny', 'operation.op'],
    ['stop', base(spec(), { op: 'stop' }), 'direct', undefined],
    ['stop a stopped workload', base(spec({ replicas: 0 }), { op: 'stop' }), 'deny', 'operation.op'],
    ['start a stopped workload', base(spec({ replicas: 0 }), { op: 'start' }, { dayTwo: { stoppedReplicas: 3 } }), 'direct', undefined],
    ['start a running workload', base(spec(), { op: 'start' }), 'deny', 'operation.op'],
    ['start back past the quota', base(spec({ replicas: 0 }), { op: 'start' }, { dayTwo: { stoppedReplicas: 4 } }), 'deny', 'operation.op'],
    ['restart', base(spec(), { op: 'restart' }), 'direct', undefined],
    ['restart a CronJob', base(spec({ kind: 'CronJob', schedule: '@hourly', replicas: 1 }), { op: 'restart' }), 'deny', 'operation.op'],
    ['delete', base(spec(), { op: 'delete' }), 'approval', undefined],
    ['delete with its volume in use', base(rwoSpec, { op: 'delete' }, { volumeUsers: ['workload db'] }), 'deny', 'operation.op'],
    ['session affinity', base(withSvc, { op: 'access', access: { service: svc({ sessionAffinity: 'ClientIP' }) } }), 'direct', undefined],
    [
      'ingress timeouts on the same host',
      base(withSvc, { op: 'access', access: { service: svc(), ingress: { host: 'web.example.com', readTimeoutSeconds: 120, bodySize: '8m' } } }),
      'direct',
      undefined,
    ],
    ['remove the ingress', base(withSvc, { op: 'access', access: { service: svc(), ingress: null } }), 'direct', undefined],
    ['expose as NodePort', base(withSvc, { op: 'access', access: { service: svc({ type: 'NodePort', nodePort: 30080 }) } }), 'approval', undefined],
    [
      'expose as LoadBalancer',
      base(withSvc, { op: 'access', access: { service: svc({ type: 'LoadBalancer', loadBalancerIP: '10.0.0.9' }) } }),
      'approval',
      undefined,
    ],
    ['new ingress host', base(withSvc, { op: 'access', access: { service: svc(), ingress: { host: 'shop.example.com' } } }), 'approval', undefined],
    [
      'ingress TLS',
      base(withSvc, { op: 'access', access: { service: svc(), ingress: { host: 'web.example.com', tlsSecretName: 'web-tls' } } }),
      'approval',
      undefined,
    ],
  ] as const)('%s → %s', (_name, input, outcome, field) => {
    const d = decideWorkloadOperation(input);
    expect(d.outcome, JSON.stringify(d)).toBe(outcome);
    expect(d.version).toBe(WORKLOAD_OPERATION_POLICY_VERSION);
    if (d.outcome === 'deny') expect(d.field).toBe(field);
    if (d.outcome === 'approval') expect(d.chain.map((s) => s.role)).toEqual(['vdc-admin']);
  });

  it('counts the claims a StatefulSet scale-up makes against requests.storage (storage is quota)', () => {
    const sts = spec({
      kind: 'StatefulSet',
      name: 'db',
      replicas: 1,
      volumeClaimTemplates: [{ name: 'data', size: '4Gi', accessMode: 'ReadWriteOnce' }],
      containers: [{ name: 'db', image: 'pg:16', volumeMounts: [{ volume: 'data', mountPath: '/d' }] }],
    });
    const quota = { hard: { cpu: 1, memoryGi: 2, pods: 5, storageGi: 10 }, used: { cpu: 0.1, memoryGi: 0.125, pods: 1, storageGi: 4 } };
    const perReplica = { cpu: 0.1, memoryGi: 0.125, storageGi: 4 };
    expect(decideWorkloadOperation(base(sts, { op: 'scale', replicas: 2 }, { quota, perReplica })).outcome).toBe('direct');
    const d = decideWorkloadOperation(base(sts, { op: 'scale', replicas: 3 }, { quota, perReplica }));
    expect(d.outcome === 'deny' && d.field).toBe('operation.replicas');
    expect(d.outcome === 'deny' && d.reason).toMatch(/^quota: storageGi would be 12 of 10 in vdc-a at 3 replicas/);
  });

  it('names the resource and the storage rule it refuses on', () => {
    const q = decideWorkloadOperation(base(spec(), { op: 'scale', replicas: 6 }));
    expect(q.outcome === 'deny' && q.reason).toMatch(/^quota: pods would be 6 of 5/);
    const s = decideWorkloadOperation(base(rwoSpec, { op: 'scale', replicas: 2 }));
    expect(s.outcome === 'deny' && s.reason).toMatch(/^storage rule rwo-single-replica:/);
  });

  it('stop remembers nothing itself; start returns to the remembered count (else 1)', () => {
    expect(specAfter(spec(), { op: 'stop' }, {}).replicas).toBe(0);
    expect(specAfter(spec({ replicas: 0 }), { op: 'start' }, { stoppedReplicas: 3 }).replicas).toBe(3);
    expect(specAfter(spec({ replicas: 0 }), { op: 'start' }, {}).replicas).toBe(1);
    expect(specAfter(withSvc, { op: 'access', access: { service: svc(), ingress: null } }, {}).ingress).toBeUndefined();
    expect(specAfter(withSvc, { op: 'access', access: { service: svc({ type: 'NodePort' }) } }, {}).ingress?.host).toBe('web.example.com');
  });

  it('a ticket for a direct operation is auto-approved; volume users come from the records', () => {
    expect(decideWorkloadOperationTicket(base(spec(), { op: 'restart' })).outcome).toBe('auto-approve');
    const user = spec({
      name: 'db',
      strategy: 'Recreate',
      volumes: [{ name: 'data', existing: true }],
      replicas: 1,
      containers: [{ name: 'db', image: 'x', volumeMounts: [{ volume: 'data', mountPath: '/d' }] }],
    });
    expect(recordedVolumeUsers(rwoSpec, ns, [{ namespace: ns, name: 'db', spec: user }])).toEqual(['workload db']);
  });
});
