import { describe, expect, it } from 'vitest';
import { WorkloadSpecSchema } from '../common/workload.ts';
import { missingLimitProblems } from './workload.ts';

const spec = WorkloadSpecSchema.parse({
  kind: 'Deployment',
  name: 'web',
  containers: [
    { name: 'app', image: 'r/app:1', limits: { cpu: '500m' } },
    { name: 'side', image: 'r/side:1', limits: { cpu: '100m', memory: '64Mi' } },
  ],
});

describe('missingLimitProblems (a quota on limits without a LimitRange default refuses pods)', () => {
  it('names each container without the limit the quota bounds', () => {
    expect(missingLimitProblems(spec, { cpu: 4, memoryGi: 8 }, 'vdc-a', new Set())).toEqual([
      'quota: container app sets no memory limit; the ResourceQuota of vdc-a bounds memory limits and no LimitRange there gives a default, so its pods would be refused',
    ]);
  });

  it('nothing when a LimitRange gives the default, or the quota does not bound that resource', () => {
    expect(missingLimitProblems(spec, { cpu: 4, memoryGi: 8 }, 'vdc-a', new Set(['memory']))).toEqual([]);
    expect(missingLimitProblems(spec, { cpu: 4, pods: 10 }, 'vdc-a', new Set())).toEqual([]);
  });
});
