import type { V1ResourceQuota } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import type { Quota } from '../../common/tickets.ts';
import { FIELD_MANAGER, isNotFound, mapKubeError, type KubeClients } from './client.ts';
import { fromResourceList, toResourceList } from './quantity.ts';

/** The one ResourceQuota per application space through which a VDC's quota is enforced. */
export const QUOTA_NAME = 'edgeport-quota';

export interface QuotaReading {
  exists: boolean;
  hard: Quota;
  used: Quota;
  resourceVersion?: string;
}

export async function readQuota(kube: KubeClients, namespace: string): Promise<QuotaReading> {
  try {
    const rq = await kube.core.readNamespacedResourceQuota({ name: QUOTA_NAME, namespace });
    return { exists: true, hard: fromResourceList(rq.spec?.hard), used: fromResourceList(rq.status?.used), resourceVersion: rq.metadata?.resourceVersion };
  } catch (err) {
    if (isNotFound(err)) return { exists: false, hard: {}, used: {} };
    return mapKubeError(err, `read ResourceQuota ${namespace}/${QUOTA_NAME}`);
  }
}

/** Server-side applies the quota with Edgeport's field manager; applying the same quota again is a no-op. */
export async function applyQuota(kube: KubeClients, namespace: string, quota: Quota, labels: Record<string, string>): Promise<V1ResourceQuota> {
  const spec: V1ResourceQuota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: QUOTA_NAME, namespace, labels: { 'app.kubernetes.io/managed-by': 'edgeport', ...labels } },
    spec: { hard: toResourceList(quota) },
  };
  try {
    return await kube.objects.patch(spec, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (err) {
    return mapKubeError(err, `apply ResourceQuota ${namespace}/${QUOTA_NAME}`);
  }
}
