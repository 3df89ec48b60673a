import { describe, expect, it } from 'vitest';
import { PULL_SECRET_NAME } from '../../common/pull-credentials.ts';
import { WorkloadSpecSchema } from '../../common/workload.ts';
import { configRefs } from './config-refs.ts';
import { configVolumeName, workloadObjects } from './workload.ts';

const spec = (container: Record<string, unknown>) =>
  WorkloadSpecSchema.parse({ kind: 'Deployment', name: 'web', containers: [{ name: 'app', image: 'registry.invalid/web:1', ...container }] });
const owner = { vdcId: 'v', namespace: 'ns', ticketId: 't', revision: 1 };

describe('config mounts', () => {
  it('render one pod volume per object and a read-only mount per entry (subPath for one key)', () => {
    const s = spec({
      configMounts: [
        { secret: 'db', mountPath: '/etc/db' },
        { secret: 'db', key: 'password', mountPath: '/run/pw' },
        { configMap: 'conf', key: 'app.properties', mountPath: '/etc/app/app.properties' },
      ],
    });
    const dep = workloadObjects(s, owner).find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { volumes: unknown[]; containers: { volumeMounts: unknown[] }[] } } };
    };
    const pod = dep.spec.template.spec;
    const sec = configVolumeName({ secret: 'db', mountPath: '/' });
    const cm = configVolumeName({ configMap: 'conf', mountPath: '/' });
    expect(sec).not.toBe(cm);
    expect(pod.volumes).toEqual([
      { name: sec, secret: { secretName: 'db' } },
      { name: cm, configMap: { name: 'conf' } },
    ]);
    expect(pod.containers[0]?.volumeMounts).toEqual([
      { name: sec, mountPath: '/etc/db', readOnly: true },
      { name: sec, mountPath: '/run/pw', readOnly: true, subPath: 'password' },
      { name: cm, mountPath: '/etc/app/app.properties', readOnly: true, subPath: 'app.properties' },
    ]);
  });

  it("every pod template references the VDC's pull Secret (issue 17)", () => {
    const kinds = [{ kind: 'Deployment' }, { kind: 'StatefulSet' }, { kind: 'Job' }, { kind: 'CronJob', schedule: '*/5 * * * *' }];
    for (const k of kinds) {
      const s = WorkloadSpecSchema.parse({ ...k, name: 'web', containers: [{ name: 'app', image: 'registry.invalid/web:1' }] });
      const ctrl = workloadObjects(s, owner).find((o) => o.kind === k.kind) as unknown as {
        spec: { template?: { spec: { imagePullSecrets: unknown } }; jobTemplate?: { spec: { template: { spec: { imagePullSecrets: unknown } } } } };
      };
      const pod = ctrl.spec.template?.spec ?? ctrl.spec.jobTemplate?.spec.template.spec;
      expect(pod?.imagePullSecrets, k.kind).toEqual([{ name: PULL_SECRET_NAME }]);
    }
  });

  it('need exactly one of configMap and secret', () => {
    const r = WorkloadSpecSchema.safeParse({
      kind: 'Deployment',
      name: 'web',
      containers: [{ name: 'app', image: 'x', configMounts: [{ configMap: 'a', secret: 'b', mountPath: '/x' }] }],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['containers', 0, 'configMounts', 0]);
  });

  it('every env ref and mount is a reference, with its field path', () => {
    const s = spec({
      env: [
        { name: 'A', value: '1' },
        { name: 'P', secretRef: { name: 'db', key: 'password' } },
      ],
      configMounts: [{ configMap: 'conf', mountPath: '/etc/conf' }],
    });
    expect(configRefs(s)).toEqual([
      { field: 'containers[0].env[1].secretRef', kind: 'Secret', name: 'db', key: 'password' },
      { field: 'containers[0].configMounts[0].configMap', kind: 'ConfigMap', name: 'conf' },
    ]);
  });
});
