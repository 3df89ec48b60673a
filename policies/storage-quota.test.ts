import { describe, expect, it } from 'vitest';
import { WorkloadSpecSchema, VolumeSchema } from '../common/workload.ts';
import { CreateVolumeSchema } from '../common/volumes.ts';
import { requestedStorageGi, storageQuotaProblem, workloadStorageGi } from './storage-quota.ts';

const container = { name: 'db', image: 'registry.invalid/db:1', volumeMounts: [{ volume: 'data', mountPath: '/data' }] };
const sts = WorkloadSpecSchema.parse({
  kind: 'StatefulSet',
  name: 'db',
  replicas: 3,
  containers: [container],
  volumeClaimTemplates: [{ name: 'data', size: '4Gi', accessMode: 'ReadWriteOnce' }],
});
const records = {
  volumes: [
    { namespace: 'vdc-a', name: 'v1', size: '2Gi' },
    { namespace: 'vdc-a-web', name: 'v2', size: '512Mi' },
    { namespace: 'vdc-a-edge', name: 'v3', size: '50Gi' },
  ],
  workloads: [{ namespace: 'vdc-a', name: 'db', spec: sts }],
};
const onPool = new Set(['vdc-a', 'vdc-a-web']);

describe('storage is quota', () => {
  it('sizes are bounded: 64Ti per volume, no zero, no exponent', () => {
    const size = (s: string) => CreateVolumeSchema.safeParse({ name: 'x', size: s, accessMode: 'ReadWriteOnce' }).success;
    expect(['1Gi', '512Mi', '64Ti', '65536Gi'].map(size)).toEqual([true, true, true, true]);
    expect(['99999999999999999999Ti', '100000Ti', '65Ti', '0Gi', '1e3Gi', '1GB'].map(size)).toEqual([false, false, false, false, false, false]);
    expect(VolumeSchema.safeParse({ name: 'x', size: '100000Ti', accessMode: 'ReadWriteOnce' }).success).toBe(false);
  });

  it('sums the claims of the pool: volumes, owned volumes, claim templates × replicas', () => {
    expect(workloadStorageGi(sts)).toBe(12);
    expect(requestedStorageGi(records, onPool)).toBe(14.5);
    expect(requestedStorageGi(records, onPool, 'workload vdc-a/db')).toBe(2.5);
    expect(requestedStorageGi(records, onPool, 'volume vdc-a/v1')).toBe(12.5);
  });

  it('names requests.storage and the quota when a request does not fit; the default quota holds a VDC without one', () => {
    const base = { pool: 'local', records, namespaces: onPool, what: 'volume big (10Gi)', afterGi: 10 };
    expect(storageQuotaProblem({ ...base, quota: { storageGi: 20 } })).toMatch(
      /^requests\.storage quota 20Gi of this VDC on pool local exceeded: volume big \(10Gi\) needs 10Gi, 14\.5Gi is requested already \(24\.5Gi in all\)/,
    );
    expect(storageQuotaProblem({ ...base, quota: { storageGi: 30 } })).toBeUndefined();
    expect(storageQuotaProblem({ ...base, quota: { cpu: 1 }, afterGi: 90 })).toMatch(/quota 100Gi/);
    expect(storageQuotaProblem({ ...base, quota: { cpu: 1 }, afterGi: 85 })).toBeUndefined();
  });
});
