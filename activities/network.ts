import { dumpYaml, type KubernetesObject } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type { NetworkSyncResult, RenderedPolicyView } from '../common/network.ts';
import type { Store } from '../store/index.ts';
import type { PoolClients } from '../infra/kube/pool-clients.ts';
import { livePolicies, renderNetworkPolicies, stalePolicies } from '../infra/kube/network-policy.ts';
import { applyObject } from '../infra/kube/space.ts';
import { deleteObject, dryRunApply } from '../infra/kube/workload.ts';

export interface NetworkActivityDeps {
  /** Clients of the VDC's pools: each policy goes to the pool its namespace lives on. */
  pools: PoolClients;
  store: Store;
}

const where = (o: KubernetesObject): string => `NetworkPolicy ${o.metadata?.namespace}/${o.metadata?.name}`;

/** A live object without what the server manages, for reading back in the portal. */
function readable(o: KubernetesObject): KubernetesObject {
  const { managedFields: _m, uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, ...metadata } = o.metadata ?? {};
  void [_m, _u, _r, _c, _g];
  const { status: _s, ...rest } = o as KubernetesObject & { status?: unknown };
  void _s;
  return { ...rest, metadata };
}

/** Activities of security groups and space network defaults: render, apply and prune NetworkPolicies. */
export function createNetworkActivities(deps: NetworkActivityDeps) {
  const { pools, store } = deps;
  const network = store.network;
  return {
    /**
     * Makes the VDC's NetworkPolicies what its groups and space defaults stand for now (read from Mongo):
     * every desired policy is first dry-run (server-side), and any refusal fails the activity
     * non-retryably (`KubernetesRefused`) before anything is written; then each is applied (server-side
     * apply, field manager `edgeport`) and the policies this feature rendered earlier that are no longer
     * desired are deleted. Idempotent: a retry converges on the same objects.
     */
    async syncNetworkPolicies(args: { vdcId: string }): Promise<NetworkSyncResult> {
      const [vdc, groups, defaults] = await Promise.all([store.vdcs.get(args.vdcId), network.list(args.vdcId), network.listDefaults(args.vdcId)]);
      const spaces = (vdc?.spaces ?? []).map((s) => ({ name: s.name, namespace: s.namespace }));
      const desired = renderNetworkPolicies({ vdcId: args.vdcId, groups, spaces, defaults });
      const refusals: string[] = [];
      const kubeOf = (o: KubernetesObject) => pools.forNamespace(args.vdcId, o.metadata?.namespace ?? '');
      for (const o of desired) {
        const refused = await dryRunApply(await kubeOf(o), o);
        if (refused) refusals.push(refused);
      }
      if (refusals.length > 0) throw ApplicationFailure.nonRetryable(refusals.join('; '), 'KubernetesRefused');
      const applied: string[] = [];
      for (const o of desired) {
        await applyObject(await kubeOf(o), o);
        applied.push(where(o));
      }
      const deleted: string[] = [];
      for (const kube of await pools.forVdcPools(args.vdcId)) {
        for (const o of await stalePolicies(kube, args.vdcId, desired)) {
          await deleteObject(kube, o);
          deleted.push(where(o));
        }
      }
      return { applied, deleted };
    },

    /** The live NetworkPolicies rendered for the VDC (or one of its groups), as YAML. */
    async readNetworkPolicies(args: { vdcId: string; groupId?: string }): Promise<RenderedPolicyView[]> {
      const items = (await Promise.all((await pools.forVdcPools(args.vdcId)).map((kube) => livePolicies(kube, args.vdcId, args.groupId)))).flat();
      // List items carry no apiVersion/kind; dumpYaml needs them to write the wire names (`from`, not the model's `_from`).
      return items.map((o) => ({
        namespace: o.metadata?.namespace ?? '',
        name: o.metadata?.name ?? '',
        yaml: dumpYaml(readable({ ...o, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' })),
      }));
    },
  };
}
export type NetworkActivities = ReturnType<typeof createNetworkActivities>;
