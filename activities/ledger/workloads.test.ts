import { describe, expect, it } from 'vitest';
import { WorkloadSpecSchema } from '../../common/workload.ts';
import { workloadMeteredQuantities } from './workloads.ts';

/** What a workload's `workload.requests` line bills, by kind (pure; the stack test checks the lines end to end). */
const spec = (over: Record<string, unknown>) =>
  WorkloadSpecSchema.parse({
    kind: 'Deployment',
    name: 'w',
    containers: [{ name: 'c', image: 'nginx:1', requests: { cpu: '250m', memory: '512Mi' } }],
    ...over,
  });

describe('workloadMeteredQuantities', () => {
  it.each([
    ['a Deployment: requests × replicas', spec({ replicas: 3 }), { cpu: 0.75, memoryGi: 1.5, storageGi: 0 }],
    [
      'stopped: nothing running, owned claims still held',
      spec({ replicas: 0, strategy: 'Recreate', volumes: [{ name: 'd', size: '5Gi', accessMode: 'ReadWriteOnce' }] }),
      { cpu: 0, memoryGi: 0, storageGi: 5 },
    ],
    [
      'with an HPA: its maximum (what the quota reserves)',
      spec({ replicas: 1, hpa: { minReplicas: 1, maxReplicas: 4, cpuPercent: 80 } }),
      { cpu: 1, memoryGi: 2, storageGi: 0 },
    ],
    ['a Job: runs now and then, no cpu / memory line', spec({ kind: 'Job', job: { parallelism: 2 } }), { cpu: 0, memoryGi: 0, storageGi: 0 }],
    [
      'a StatefulSet: claim templates × replicas plus its own volumes',
      spec({
        kind: 'StatefulSet',
        replicas: 2,
        volumes: [{ name: 'cfg', size: '512Mi', accessMode: 'ReadWriteMany' }],
        volumeClaimTemplates: [{ name: 'data', size: '1Gi', accessMode: 'ReadWriteOnce' }],
      }),
      { cpu: 0.5, memoryGi: 1, storageGi: 2.5 },
    ],
  ] as const)('%s', (_, s, expected) => {
    expect(workloadMeteredQuantities(s)).toEqual(expected);
  });
});
