import type { KubernetesObject } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { VOLUME_ERRORS, VOLUME_LABELS, type LiveClaim } from '../common/volumes.ts';
import { STORAGE_RULES } from '../common/workload.ts';
import type { Store } from '../store/index.ts';
import { poolOfNamespace } from '../common/tenancy.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { applyObject } from '../infra/kube/space.ts';
import { claimUsers, deleteObject, dryRunApply, persistentVolumeClaim, readObject } from '../infra/kube/workload.ts';
import { liveClaims, type Pvc } from '../infra/kube/volumes.ts';
import { volumeMeteringFact, type VolumeMeteringFact } from './ledger/volumes.ts';

export interface VolumeActivityDeps {
  /** Clients of the pool each namespace lives on. */
  pools: PoolClients;
  store: Store;
}

const ref = (namespace: string, name: string): KubernetesObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace } });

/** Activities of standalone volumes (PersistentVolumeClaims made with the volume API). */
export function createVolumeActivities(deps: VolumeActivityDeps) {
  const { pools, store } = deps;
  const volumes = store.volumes;
  /** The storage the volume holds from now on (`size` null: deleted), for the ledger (issue 11: metered). */
  const metered = async (args: { vdcId: string; namespace: string; name: string }, size: string | null): Promise<VolumeMeteringFact> => {
    const vdc = await store.vdcs.get(args.vdcId);
    return volumeMeteringFact(
      { id: args.vdcId, domainId: vdc?.domainId ?? '', pool: vdc ? poolOfNamespace(vdc, args.namespace) : undefined },
      args,
      size,
      new Date().toISOString(),
    );
  };
  return {
    /**
     * Makes the claim what the record says (create, or expand to the recorded size): a claim of that name
     * that is not a standalone volume of this VDC is refused (`VolumeExists`, storage rule
     * `unique-volume-name`); the object is dry-run first, so a refusal (quota, a class that does not allow
     * expansion, an unbound claim) fails non-retryably (`KubernetesRefused`) before anything is written.
     */
    async applyVolume(args: { vdcId: string; namespace: string; name: string }): Promise<{ size: string; metered: VolumeMeteringFact }> {
      const v = await volumes.get(args.namespace, args.name);
      if (!v || v.vdcId !== args.vdcId) throw ApplicationFailure.nonRetryable(`no volume ${args.name} recorded in ${args.namespace}`, 'KubernetesRefused');
      const kube = await pools.forNamespace(args.vdcId, args.namespace);
      const live = await readObject<Pvc>(kube, ref(args.namespace, args.name));
      if (live && live.metadata?.labels?.[VOLUME_LABELS.standalone] !== args.name) {
        throw ApplicationFailure.nonRetryable(
          `storage rule ${STORAGE_RULES.duplicateVolume}: a claim ${args.name} already exists in namespace ${args.namespace}`,
          VOLUME_ERRORS.exists,
        );
      }
      const labels = { [VOLUME_LABELS.vdc]: args.vdcId, [VOLUME_LABELS.standalone]: args.name, [VOLUME_LABELS.managedBy]: 'edgeport' };
      const obj = persistentVolumeClaim(
        { name: v.name, size: v.size, accessMode: v.accessMode, ...(v.storageClass ? { storageClass: v.storageClass } : {}) },
        { name: v.name, namespace: v.namespace, labels },
      );
      const refused = await dryRunApply(kube, obj);
      if (refused) throw ApplicationFailure.nonRetryable(refused, 'KubernetesRefused');
      await applyObject(kube, obj);
      return { size: v.size, metered: await metered(args, v.size) };
    },

    /**
     * Deletes a standalone claim unless something mounts it now (controllers' pod templates and bare pods,
     * `claimUsers`): then it fails with `VolumeInUse`, naming storage rule `volume-in-use`. Absent = done
     * (a retry after the delete went through): either way the result meters the volume at 0 from now on.
     */
    async deleteVolume(args: { vdcId: string; namespace: string; name: string }): Promise<{ metered: VolumeMeteringFact }> {
      const kube = await pools.forNamespace(args.vdcId, args.namespace);
      const users = await claimUsers(kube, args.namespace, args.name, '');
      if (users.length > 0)
        throw ApplicationFailure.nonRetryable(
          `storage rule ${STORAGE_RULES.volumeInUse}: volume ${args.name} is mounted by ${users.join(', ')} and cannot be deleted`,
          VOLUME_ERRORS.inUse,
        );
      const live = await readObject<Pvc>(kube, ref(args.namespace, args.name));
      if (!live) return { metered: await metered(args, null) };
      if (live.metadata?.labels?.[VOLUME_LABELS.standalone] !== args.name || live.metadata?.labels?.[VOLUME_LABELS.vdc] !== args.vdcId) {
        throw ApplicationFailure.nonRetryable(`claim ${args.namespace}/${args.name} is not a standalone volume of this VDC`, 'KubernetesRefused');
      }
      await deleteObject(kube, ref(args.namespace, args.name));
      return { metered: await metered(args, null) };
    },

    /** Every claim of the namespaces with its phase, capacity and who mounts it now. */
    async listClaims(args: { namespaces: string[] }): Promise<LiveClaim[]> {
      const claims = await Promise.all(args.namespaces.map(async (ns) => liveClaims(await pools.forOwnedNamespace(ns), [ns])));
      return claims.flat();
    },
  };
}
export type VolumeActivities = ReturnType<typeof createVolumeActivities>;
