import { describe, expect, it } from 'vitest';
import { WorkloadSpecSchema, type WorkloadSpec } from '../common/workload.ts';
import {
  decideWorkloadDeploy,
  decideWorkloadRollback,
  storageViolations,
  workloadPoolProblem,
  volumeChangeProblems,
  volumeCreateViolations,
  type ExistingWorkload,
} from './workload.ts';

const ns = 'vdc-a';
const spec = (over: Record<string, unknown> = {}): WorkloadSpec =>
  WorkloadSpecSchema.parse({ kind: 'Deployment', name: 'web', containers: [{ name: 'web', image: 'nginx:1' }], ...over });
const rwo = { name: 'data', size: '1Gi', accessMode: 'ReadWriteOnce' };
const rwx = { name: 'shared', size: '1Gi', accessMode: 'ReadWriteMany' };
const mount = (volume: string) => [{ name: 'web', image: 'nginx:1', volumeMounts: [{ volume, mountPath: '/data' }] }];
const other = (name: string, over: Record<string, unknown>, namespace = ns): ExistingWorkload => ({
  namespace,
  name,
  spec: WorkloadSpecSchema.parse({ kind: 'Deployment', name, strategy: 'Recreate', containers: mount((over.volumes as { name: string }[])[0]!.name), ...over }),
});

describe('storage rules (each refusal names its rule)', () => {
  it.each([
    ['rwo-single-replica', spec({ replicas: 2, strategy: 'Recreate', volumes: [rwo], containers: mount('data') }), [], 'workload.replicas'],
    [
      'rwo-no-hpa',
      spec({ strategy: 'Recreate', hpa: { minReplicas: 1, maxReplicas: 1, cpuPercent: 80 }, volumes: [rwo], containers: mount('data') }),
      [],
      'workload.hpa',
    ],
    ['rwo-no-rolling-update', spec({ volumes: [rwo], containers: mount('data') }), [], 'workload.strategy'],
    ['rwo-no-rolling-update', spec({ strategy: 'RollingUpdate', volumes: [rwo], containers: mount('data') }), [], 'workload.strategy'],
    [
      'unique-volume-name',
      spec({ strategy: 'Recreate', volumes: [rwo], containers: mount('data') }),
      [other('db', { volumes: [rwo] }, 'vdc-a-other-space')],
      'workload.volumes.0.name',
    ],
    [
      'rwo-single-workload',
      spec({ strategy: 'Recreate', volumes: [{ name: 'data', existing: true }], containers: mount('data') }),
      [other('db', { volumes: [rwo] })],
      'workload.volumes.0.name',
    ],
  ] as const)('%s', (rule, s, existing, field) => {
    const [first] = storageViolations(s, ns, existing);
    expect(first?.rule).toBe(rule);
    expect(first?.field).toBe(field);
    expect(first?.message).toMatch(new RegExp(`^storage rule ${rule}: `));
    const decision = decideWorkloadDeploy({ spec: s, namespace: ns, spaces: [], workloads: existing, requesterRoles: ['vdc-user'] });
    expect(decision).toMatchObject({ outcome: 'deny', field, reason: expect.stringContaining(`storage rule ${rule}:`) });
  });

  it.each([
    ['an RWO volume, one replica, Recreate', spec({ strategy: 'Recreate', volumes: [rwo], containers: mount('data') }), []],
    [
      'an RWX volume with replicas, HPA and rolling update',
      spec({ replicas: 3, hpa: { minReplicas: 2, maxReplicas: 5, cpuPercent: 70 }, volumes: [rwx], containers: mount('shared') }),
      [],
    ],
    [
      'an RWX volume of another workload mounted',
      spec({ replicas: 2, volumes: [{ name: 'shared', existing: true }], containers: mount('shared') }),
      [other('db', { volumes: [rwx] })],
    ],
    ['its own volume again on upgrade', spec({ strategy: 'Recreate', volumes: [rwo], containers: mount('data') }), [other('web', { volumes: [rwo] })]],
    [
      'a StatefulSet with an RWO volume (ordered replacement, no rolling overlap)',
      spec({ kind: 'StatefulSet', volumes: [rwo], containers: mount('data') }),
      [],
    ],
  ] as const)('allows %s', (_, s, existing) => {
    expect(storageViolations(s, ns, existing)).toEqual([]);
  });

  it('volume-in-use: an upgrade dropping a volume another workload mounts is refused; dropping an unused one is allowed', () => {
    const current = other('web', { volumes: [rwo, rwx], containers: mount('data') });
    const reader = other('reader', { volumes: [{ name: 'shared', existing: true }], replicas: 1 });
    const upgrade = spec({ strategy: 'Recreate', volumes: [rwo], containers: mount('data') });
    const [first] = storageViolations(upgrade, ns, [current, reader]);
    expect(first).toEqual({
      rule: 'volume-in-use',
      field: 'workload.volumes',
      message: 'storage rule volume-in-use: volume shared is mounted by workload reader and cannot be deleted',
    });
    expect(decideWorkloadDeploy({ spec: upgrade, namespace: ns, spaces: [], workloads: [current, reader], requesterRoles: [] })).toMatchObject({
      outcome: 'deny',
      field: 'workload.volumes',
      reason: expect.stringMatching(/^storage rule volume-in-use: /),
    });
    expect(storageViolations(upgrade, ns, [current])).toEqual([]);
    const rec = {
      ...current,
      revision: 2,
      revisions: [
        { revision: 1, spec: upgrade },
        { revision: 2, spec: current.spec },
      ],
    };
    expect(decideWorkloadRollback({ name: 'web', namespace: ns, workloads: [rec, { ...reader, revision: 1, revisions: [] }] })).toMatchObject({
      outcome: 'deny',
      reason: expect.stringMatching(/^storage rule volume-in-use: /),
    });
  });

  it('refuses duplicate volume names within one spec at validation', () => {
    const r = WorkloadSpecSchema.safeParse({ kind: 'Deployment', name: 'web', containers: [{ name: 'web', image: 'x' }], volumes: [rwo, rwo] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['volumes', 1, 'name']);
  });
});

describe('StatefulSet volume claim templates', () => {
  const sts = (name: string, templates: unknown[], replicas = 2): WorkloadSpec =>
    spec({ kind: 'StatefulSet', name, replicas, containers: mount('data'), volumeClaimTemplates: templates });
  it('are a StatefulSet thing, mountable by name, named once per spec', () => {
    expect(
      WorkloadSpecSchema.safeParse({ kind: 'Deployment', name: 'web', containers: mount('data'), volumeClaimTemplates: [rwo] }).error?.issues.map((i) =>
        i.path.join('.'),
      ),
    ).toEqual(['volumeClaimTemplates']);
    expect(WorkloadSpecSchema.safeParse({ kind: 'StatefulSet', name: 'db', containers: mount('data'), volumeClaimTemplates: [rwo] }).success).toBe(true);
    expect(
      WorkloadSpecSchema.safeParse({
        kind: 'StatefulSet',
        name: 'db',
        containers: mount('data'),
        volumes: [rwx],
        volumeClaimTemplates: [{ ...rwo, name: 'shared' }],
      }).error?.issues.map((i) => i.path.join('.')),
    ).toContain('volumeClaimTemplates.0.name');
  });
  it('take their name in the VDC: against owned volumes, other templates and standalone volumes, both ways', () => {
    expect(storageViolations(sts('db', [rwo]), ns, [other('web', { volumes: [rwo] }, 'vdc-a-x')])[0]).toMatchObject({
      rule: 'unique-volume-name',
      field: 'workload.volumeClaimTemplates.0.name',
    });
    expect(storageViolations(sts('db2', [rwo]), ns, [{ namespace: ns, name: 'db', spec: sts('db', [rwo]) }])[0]).toMatchObject({
      rule: 'unique-volume-name',
      field: 'workload.volumeClaimTemplates.0.name',
    });
    expect(storageViolations(sts('db', [rwo]), ns, [], [{ namespace: ns, name: 'data', accessMode: 'ReadWriteOnce' }])[0]?.rule).toBe('unique-volume-name');
    expect(
      storageViolations(spec({ strategy: 'Recreate', volumes: [rwo], containers: mount('data') }), ns, [
        { namespace: ns, name: 'db', spec: sts('db', [rwo]) },
      ])[0]?.field,
    ).toBe('workload.volumes.0.name');
    expect(volumeCreateViolations('data', [{ namespace: ns, name: 'db', spec: sts('db', [rwo]) }], [])[0]?.rule).toBe('unique-volume-name');
    // Per-replica claims: an RWO template allows replicas; its own templates again on upgrade are fine.
    expect(storageViolations(sts('db', [rwo], 3), ns, [{ namespace: ns, name: 'db', spec: sts('db', [rwo]) }])).toEqual([]);
  });
  it('cannot change after the StatefulSet was created', () => {
    expect(volumeChangeProblems(sts('db', [{ ...rwo, size: '2Gi' }]), sts('db', [rwo]))).toEqual([
      expect.objectContaining({ field: 'workload.volumeClaimTemplates' }),
    ]);
    expect(volumeChangeProblems(sts('db', [rwo], 5), sts('db', [rwo]))).toEqual([]);
  });
});

describe('decideWorkloadDeploy', () => {
  it('needs a VDC admin', () => {
    expect(decideWorkloadDeploy({ spec: spec(), namespace: ns, spaces: [], workloads: [], requesterRoles: ['vdc-user'] })).toMatchObject({
      outcome: 'approval',
      chain: [{ role: 'vdc-admin' }],
    });
  });
  it('adds an operations admin step for a privileged container (privileged rule)', () => {
    const s = spec({ containers: [{ name: 'web', image: 'x', securityContext: { privileged: true } }] });
    const d = decideWorkloadDeploy({ spec: s, namespace: ns, spaces: [], workloads: [], requesterRoles: ['vdc-admin'] });
    expect(d).toMatchObject({
      outcome: 'approval',
      reason: 'deploy with a privileged container',
      chain: [
        { step: 0, role: 'vdc-admin' },
        { step: 1, role: 'ops-admin', label: expect.stringContaining('rule privileged-needs-ops-admin') },
      ],
    });
  });
  it('denies an unknown application space', () => {
    expect(
      decideWorkloadDeploy({
        spec: spec({ space: 'nope' }),
        namespace: 'vdc-a-nope',
        spaces: [{ name: 'web', status: 'active' }],
        workloads: [],
        requesterRoles: [],
      }),
    ).toMatchObject({ outcome: 'deny', field: 'workload.space' });
  });
});

describe('decideWorkloadRollback', () => {
  const v1 = spec();
  const v2 = spec({ containers: [{ name: 'web', image: 'nginx:2' }] });
  const rec = {
    namespace: ns,
    name: 'web',
    spec: v2,
    revision: 2,
    revisions: [
      { revision: 1, spec: v1 },
      { revision: 2, spec: v2 },
    ],
  };
  it('rolls back to the previous revision by default', () => {
    expect(decideWorkloadRollback({ name: 'web', namespace: ns, workloads: [rec] })).toMatchObject({
      outcome: 'approval',
      reason: 'rollback of web to revision 1',
    });
  });
  it.each([
    [{ name: 'nope' }, 'name'],
    [{ name: 'web', revision: 7 }, 'revision'],
    [{ name: 'web', revision: 2 }, 'revision'],
  ] as const)('denies %o', (req, field) => {
    expect(decideWorkloadRollback({ namespace: ns, workloads: [rec], ...req })).toMatchObject({ outcome: 'deny', field });
  });
});

describe('the pool a workload goes to', () => {
  const vdc = { pools: ['local', 'edge-1'], spacePools: {} };
  it.each([
    ['no pool named', undefined, undefined, undefined],
    ['the primary pool', 'local', undefined, undefined],
    ['a further pool of the VDC', 'edge-1', undefined, undefined],
    ['a pool the VDC is not on', 'elsewhere', undefined, "pool elsewhere is not one of this VDC's resource pools (local, edge-1)"],
    ['a space on the primary pool with its pool', 'local', 'web', undefined],
    ['a space on the primary pool with another pool', 'edge-1', 'web', 'application space web lives on pool local, not edge-1'],
  ] as const)('%s', (_n, pool, space, problem) => {
    expect(workloadPoolProblem(pool, space, vdc)).toBe(problem);
  });

  it('a deploy to a pool outside the VDC is denied naming workload.pool', () => {
    expect(
      decideWorkloadDeploy({ spec: spec({ pool: 'elsewhere' }), namespace: ns, spaces: [], workloads: [], requesterRoles: [], pools: ['local'] }),
    ).toMatchObject({ outcome: 'deny', field: 'workload.pool' });
    expect(
      decideWorkloadDeploy({ spec: spec({ pool: 'local' }), namespace: ns, spaces: [], workloads: [], requesterRoles: [], pools: ['local'] }),
    ).toMatchObject({ outcome: 'approval' });
  });
});
