import { describe, expect, it } from 'vitest';
import { WorkloadSpecSchema } from '../common/workload.ts';
import {
  storageViolations,
  volumeCreateViolations,
  volumeDeleteViolations,
  volumeResizeProblem,
  type ExistingWorkload,
  type StandaloneVolume,
} from './workload.ts';

const ns = 'vdc-v1';
const w = (name: string, volumes: unknown[], namespace = ns): ExistingWorkload => ({
  namespace,
  name,
  spec: WorkloadSpecSchema.parse({ kind: 'StatefulSet', name, containers: [{ name: 'c', image: 'registry.invalid/x:1' }], volumes }),
});
const existing = [w('pg', [{ name: 'pg-data', size: '1Gi', accessMode: 'ReadWriteOnce' }]), w('app', [{ name: 'shared', existing: true }])];
const standalone: StandaloneVolume[] = [
  { namespace: ns, name: 'shared', accessMode: 'ReadWriteMany' },
  { namespace: 'v1-web', name: 'logs', accessMode: 'ReadWriteOnce' },
];

describe('storage rules of standalone volumes', () => {
  it.each([
    { name: 'fresh', want: [] },
    { name: 'pg-data', want: ['storage rule unique-volume-name: volume pg-data already exists in this VDC (workload pg in vdc-v1)'] },
    { name: 'logs', want: ['storage rule unique-volume-name: volume logs already exists in this VDC (standalone volume in v1-web)'] },
  ])('create $name', ({ name, want }) => {
    expect(volumeCreateViolations(name, existing, standalone).map((v) => v.message)).toEqual(want);
  });

  it.each([
    { name: 'shared', namespace: ns, want: ['storage rule volume-in-use: volume shared is mounted by workload app and cannot be deleted'] },
    { name: 'shared', namespace: 'v1-web', want: [] },
    { name: 'logs', namespace: 'v1-web', want: [] },
  ])('delete $name in $namespace', ({ name, namespace, want }) => {
    expect(volumeDeleteViolations(name, namespace, existing).map((v) => v.message)).toEqual(want);
  });

  it.each([
    { from: '1Gi', to: '2Gi', want: undefined },
    { from: '1Gi', to: '1024Mi', want: 'volume v is already 1Gi' },
    { from: '2Gi', to: '1Gi', want: 'volume v cannot shrink from 2Gi to 1Gi: a volume can only grow' },
  ])('resize $from → $to', ({ from, to, want }) => {
    expect(volumeResizeProblem('v', from, to)).toBe(want);
  });

  it('a workload may mount a standalone volume of its namespace; a workload creating one of that name is refused', () => {
    const mount = WorkloadSpecSchema.parse({
      kind: 'StatefulSet',
      name: 'new',
      containers: [{ name: 'c', image: 'registry.invalid/x:1' }],
      volumes: [{ name: 'logs', existing: true }],
    });
    expect(storageViolations(mount, 'v1-web', existing, standalone)).toEqual([]);
    expect(storageViolations(mount, ns, existing, standalone).map((v) => v.rule)).toEqual(['unique-volume-name']);
    const own = WorkloadSpecSchema.parse({
      kind: 'StatefulSet',
      name: 'new',
      containers: [{ name: 'c', image: 'registry.invalid/x:1' }],
      volumes: [{ name: 'logs', size: '1Gi', accessMode: 'ReadWriteOnce' }],
    });
    expect(storageViolations(own, ns, existing, standalone).map((v) => v.message)).toEqual([
      'storage rule unique-volume-name: volume logs already exists in this VDC (standalone volume in v1-web)',
    ]);
  });

  it('a standalone ReadWriteOnce volume is mounted by one workload only', () => {
    const second = WorkloadSpecSchema.parse({
      kind: 'StatefulSet',
      name: 'b',
      containers: [{ name: 'c', image: 'registry.invalid/x:1' }],
      volumes: [{ name: 'logs', existing: true }],
    });
    const first = w('a', [{ name: 'logs', existing: true }], 'v1-web');
    expect(storageViolations(second, 'v1-web', [first], standalone).map((v) => v.rule)).toEqual(['rwo-single-workload']);
  });
});
