import type { KubernetesObject } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { CONFIG_CENTER_LABEL, CONFIG_FAILURES, SECRET_K8S_TYPE, type ConfigKind } from '../common/config-items.ts';
import { WORKLOAD_LABELS } from '../common/workload.ts';
import { configItemAad, type ConfigItemDoc } from '../store/config-items.ts';
import { CredentialsUnreadableError, type CredentialCipher } from '../store/credentials.ts';
import type { Store } from '../store/index.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { applyWorkloadObject, deleteObject, readObject } from '../infra/kube/workload.ts';

export interface ConfigItemActivityDeps {
  /** Clients of the pool each namespace lives on. */
  pools: PoolClients;
  store: Store;
  /** Opens sealed Secret values; absent when the worker has no credentials key (Secret applies then fail). */
  credentials?: CredentialCipher;
}

/** Labels on every object of the config center (never a workload's name label, so no workload prunes it). */
export const configItemLabels = (vdcId: string): Record<string, string> => ({
  [WORKLOAD_LABELS.vdc]: vdcId,
  [WORKLOAD_LABELS.managedBy]: 'edgeport',
  [CONFIG_CENTER_LABEL]: 'true',
});

const ref = (namespace: string, kind: ConfigKind, name: string): KubernetesObject => ({ apiVersion: 'v1', kind, metadata: { name, namespace } });

/**
 * The cluster object of a stored item. A Secret's values are opened here, in the worker, and go nowhere
 * but into the returned object (which is sent to the kube-apiserver and never returned or logged).
 */
export function configItemObject(doc: ConfigItemDoc, open: (doc: ConfigItemDoc) => Record<string, string>): KubernetesObject {
  const metadata = { name: doc.name, namespace: doc.namespace, labels: configItemLabels(doc.vdcId) };
  if (doc.kind === 'ConfigMap') {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata,
      data: doc.data ?? {},
      ...(doc.binaryData && Object.keys(doc.binaryData).length ? { binaryData: doc.binaryData } : {}),
    } as KubernetesObject;
  }
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: SECRET_K8S_TYPE[doc.type ?? 'opaque'], data: open(doc) } as KubernetesObject;
}

/** Activities of the config center: apply one stored revision of an item to its namespace, or delete it. */
export function createConfigItemActivities(deps: ConfigItemActivityDeps) {
  const { pools, store } = deps;

  const openValues = (doc: ConfigItemDoc): Record<string, string> => {
    if (!doc.sealed) return {};
    if (!deps.credentials)
      throw ApplicationFailure.nonRetryable('the worker has no credentials key (EDGEPORT_CREDENTIALS_KEY) to open Secret values', CONFIG_FAILURES.unreadable);
    try {
      return JSON.parse(deps.credentials.open(doc.sealed, configItemAad(doc.namespace, doc.name))) as Record<string, string>;
    } catch (err) {
      if (err instanceof CredentialsUnreadableError)
        throw ApplicationFailure.nonRetryable(`Secret ${doc.namespace}/${doc.name}: ${err.message}`, CONFIG_FAILURES.unreadable);
      throw err;
    }
  };

  return {
    /**
     * Server-side applies revision `revision` of the stored item (field manager `edgeport`). An object of
     * that name the config center does not own (no `edgeport.io/config-center` label) is refused rather than
     * taken over. Input and result carry ids only. @throws `ConfigItemStale`, `ConfigItemUnreadable`, `KubernetesRefused`
     */
    async applyConfigItem(args: { id: string; revision: number }): Promise<{ applied: string }> {
      const doc = await store.configItems.withValues(args.id);
      if (!doc || doc.revision !== args.revision)
        throw ApplicationFailure.nonRetryable(`config item ${args.id} is no longer at revision ${args.revision}`, CONFIG_FAILURES.stale);
      const kube = await pools.forNamespace(doc.vdcId, doc.namespace);
      const live = await readObject(kube, ref(doc.namespace, doc.kind, doc.name));
      if (live && live.metadata?.labels?.[CONFIG_CENTER_LABEL] !== 'true') {
        throw ApplicationFailure.nonRetryable(
          `${doc.kind} ${doc.namespace}/${doc.name} already exists in the cluster and is not managed by the config center`,
          'KubernetesRefused',
        );
      }
      await applyWorkloadObject(kube, configItemObject(doc, openValues));
      return { applied: `${doc.kind} ${doc.namespace}/${doc.name}` };
    },

    /** Deletes the item's object if present and owned by the config center (absent = done). */
    async deleteConfigItem(args: { namespace: string; kind: ConfigKind; name: string }): Promise<{ deleted: boolean }> {
      const o = ref(args.namespace, args.kind, args.name);
      const kube = await pools.forOwnedNamespace(args.namespace);
      const live = await readObject(kube, o);
      if (!live || live.metadata?.labels?.[CONFIG_CENTER_LABEL] !== 'true') return { deleted: false };
      await deleteObject(kube, o);
      return { deleted: true };
    },
  };
}
export type ConfigItemActivities = ReturnType<typeof createConfigItemActivities>;
