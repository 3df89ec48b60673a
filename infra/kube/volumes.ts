import type { KubernetesObject } from '@kubernetes/client-node';
import type { LiveClaim } from '../../common/volumes.ts';
import { mapKubeError, type KubeClients } from './client.ts';
import { claimUsers } from './workload.ts';

export type Pvc = KubernetesObject & { spec?: { storageClassName?: string }; status?: { phase?: string; capacity?: { storage?: string } } };

/**
 * Every claim of the namespaces with its phase, capacity and who mounts it now (reads only; the API's
 * volume list calls it directly, the volumeListWorkflow through its activity).
 */
export async function liveClaims(kube: KubeClients, namespaces: string[]): Promise<LiveClaim[]> {
  const out: LiveClaim[] = [];
  for (const namespace of namespaces) {
    let items: Pvc[];
    try {
      items = (await kube.objects.list<Pvc>('v1', 'PersistentVolumeClaim', namespace)).items;
    } catch (err) {
      return mapKubeError(err, `list PersistentVolumeClaims in ${namespace}`);
    }
    for (const pvc of items) {
      const name = pvc.metadata?.name ?? '';
      out.push({
        namespace,
        name,
        ...(pvc.status?.phase ? { phase: pvc.status.phase } : {}),
        ...(pvc.status?.capacity?.storage ? { capacity: pvc.status.capacity.storage } : {}),
        ...(pvc.spec?.storageClassName ? { storageClass: pvc.spec.storageClassName } : {}),
        users: await claimUsers(kube, namespace, name, ''),
      });
    }
  }
  return out;
}
