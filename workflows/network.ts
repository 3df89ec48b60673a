import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { NetworkSyncResult, RenderedPolicyView } from '../common/network.ts';

/**
 * Someone waits on these (the api applies security-group changes synchronously): a transient fault is
 * retried a few times quickly; a refusal of the kube-apiserver is final.
 */
const { syncNetworkPolicies, readNetworkPolicies } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '3s', maximumAttempts: 4, nonRetryableErrorTypes: ['KubernetesRefused'] },
});

/**
 * Makes a VDC's NetworkPolicies match its security groups and space network defaults as stored now
 * (dry-run of all first, then apply, then prune what it rendered before and no longer wants). Input is
 * the VDC id only: the activity reads the groups, so no manifest enters the history.
 */
export async function networkSyncWorkflow(vdcId: string): Promise<NetworkSyncResult> {
  return syncNetworkPolicies({ vdcId });
}

/** Reads back the NetworkPolicies rendered for a VDC (or one of its groups) from the kube-apiserver. */
export async function networkPoliciesWorkflow(vdcId: string, groupId?: string): Promise<RenderedPolicyView[]> {
  return readNetworkPolicies({ vdcId, ...(groupId ? { groupId } : {}) });
}
