import type { VdcPoolNodesView, WorkloadDetail, WorkloadOperation, WorkloadOperationOutcome, WorkloadSummary } from '@common/workload-ops';
import { http } from './http.ts';

const base = (vdcId: string): string => `/api/vdcs/${encodeURIComponent(vdcId)}/workloads`;
const one = (vdcId: string, namespace: string, name: string): string => `${base(vdcId)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

/** Workloads of a VDC (optionally one space) with live status. Quiet: the view shows its own error state. */
export function listWorkloads(vdcId: string, space?: string): Promise<{ items: WorkloadSummary[] }> {
  return http.get(base(vdcId), { quiet: true, query: { space } });
}

/** The VDC's pools with its joined edge nodes (labels, taints) and each pool's architectures: the deploy form's placement choices. Quiet. */
export function listEdgeNodes(vdcId: string): Promise<{ items: VdcPoolNodesView[] }> {
  return http.get(`/api/vdcs/${encodeURIComponent(vdcId)}/edge-nodes`, { quiet: true });
}

export function getWorkload(vdcId: string, namespace: string, name: string): Promise<WorkloadDetail> {
  return http.get(one(vdcId, namespace, name), { quiet: true });
}

export function tailLog(
  vdcId: string,
  namespace: string,
  name: string,
  q: { pod?: string; container?: string; tailLines: number },
): Promise<{ pod: string; container: string; lines: string[] }> {
  return http.get(`${one(vdcId, namespace, name)}/logs`, { quiet: true, query: { pod: q.pod, container: q.container, tailLines: String(q.tailLines) } });
}

/** URL of the follow stream (server-sent events: `line`, `target`, `end`) for an EventSource. */
export function followLogUrl(vdcId: string, namespace: string, name: string, q: { pod?: string; container?: string; tailLines: number }): string {
  const params = new URLSearchParams({ follow: 'true', tailLines: String(q.tailLines) });
  if (q.pod) params.set('pod', q.pod);
  if (q.container) params.set('container', q.container);
  return `${one(vdcId, namespace, name)}/logs?${params.toString()}`;
}

/** Field errors (400/422) are shown by the dialog, not toasted. */
export function operateWorkload(
  vdcId: string,
  namespace: string,
  name: string,
  operation: WorkloadOperation,
  reason?: string,
): Promise<WorkloadOperationOutcome> {
  return http.post(`${one(vdcId, namespace, name)}/operations`, { operation, ...(reason ? { reason } : {}) }, { quiet: [400, 422] });
}
