import type { CoreV1Event, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import type {
  WorkloadAccessAddress,
  WorkloadDayTwoState,
  WorkloadEventView,
  WorkloadOperation,
  WorkloadPodView,
  WorkloadStatus,
} from '../../common/workload-ops.ts';
import { WORKLOAD_OPERATION_ERRORS } from '../../common/workload-ops.ts';
import { KIND_API_VERSION, STORAGE_RULES, WORKLOAD_LABELS, type WorkloadRecord, type WorkloadSpec } from '../../common/workload.ts';
import { mapKubeError, type KubeClients } from './client.ts';
import { applyWorkloadObject, claimUsers, deleteObject, pruneCandidates, readObject, rolloutState, workloadObjects } from './workload.ts';

/**
 * Kubernetes side of the day-2 workload operations and views, shared by the API (direct operations,
 * views, logs) and the `workload-operation` activities (operations after approval). Every write is a
 * server-side apply of the workload's full objects with Edgeport's field manager (an apply that left a
 * field out would drop it) or a delete; every function is idempotent.
 */

/** The pod-template annotation `kubectl rollout restart` sets; changing it rolls every pod. */
export const RESTART_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

type Controller = KubernetesObject & { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };

/**
 * The objects of the workload's current revision for `spec` (the recorded spec after the operation), the
 * restart annotation kept in the pod template while the revision it was set for is current.
 */
export function currentObjects(
  record: Pick<WorkloadRecord, 'vdcId' | 'namespace' | 'ticketId' | 'revision'>,
  spec: WorkloadSpec,
  dayTwo: WorkloadDayTwoState,
): KubernetesObject[] {
  const objects = workloadObjects(spec, { vdcId: record.vdcId, namespace: record.namespace, ticketId: record.ticketId, revision: record.revision });
  if (dayTwo.restartedAt && dayTwo.restartedRevision === record.revision) {
    const c = objects.find((o) => o.kind === spec.kind) as Controller | undefined;
    const meta = c?.spec?.template?.metadata;
    if (meta) meta.annotations = { ...(meta.annotations ?? {}), [RESTART_ANNOTATION]: dayTwo.restartedAt };
  }
  return objects;
}

const key = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;

/**
 * Deletes everything the workload's deploys created: the objects of the current spec (controller first,
 * claims and config last) and any Edgeport-applied leftovers of earlier revisions. A claim another
 * workload or a bare pod mounts is refused before anything is deleted (storage rule volume-in-use,
 * `WorkloadOperationRefused`). Absent objects are done.
 */
export async function deleteWorkload(
  kube: KubeClients,
  record: Pick<WorkloadRecord, 'vdcId' | 'namespace' | 'name' | 'ticketId' | 'revision' | 'spec'>,
): Promise<string[]> {
  const { namespace, name } = record;
  const mine = workloadObjects(record.spec, { vdcId: record.vdcId, namespace, ticketId: record.ticketId, revision: record.revision });
  const controller = mine.filter((o) => o.kind === record.spec.kind);
  const rest = mine.filter((o) => o.kind !== record.spec.kind).reverse();
  const leftovers = (await pruneCandidates(kube, namespace, name, mine)).filter((o) => !mine.some((m) => key(m) === key(o)));
  const all = [...controller, ...rest, ...leftovers];
  for (const o of all.filter((x) => x.kind === 'PersistentVolumeClaim')) {
    const users = await claimUsers(kube, namespace, o.metadata?.name ?? '', name);
    if (users.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `storage rule ${STORAGE_RULES.volumeInUse}: volume ${o.metadata?.name} is mounted by ${users.join(', ')} and cannot be deleted`,
        WORKLOAD_OPERATION_ERRORS.refused,
      );
    }
  }
  const deleted: string[] = [];
  for (const o of all) {
    if (!(await readObject(kube, o))) continue;
    await deleteObject(kube, o);
    deleted.push(key(o));
  }
  return deleted;
}

/**
 * Applies one operation (not `delete`) to the cluster: the controller object for scale / stop / start /
 * restart, the Service and Ingress for an access change (an Ingress the new spec no longer has is
 * deleted). `spec` and `dayTwo` are the state after the operation. Returns the objects written.
 */
export async function applyOperation(
  kube: KubeClients,
  record: Pick<WorkloadRecord, 'vdcId' | 'namespace' | 'name' | 'ticketId' | 'revision'>,
  op: WorkloadOperation,
  spec: WorkloadSpec,
  dayTwo: WorkloadDayTwoState,
): Promise<string[]> {
  const objects = currentObjects(record, spec, dayTwo);
  const wanted = op.op === 'access' ? objects.filter((o) => o.kind === 'Service' || o.kind === 'Ingress') : objects.filter((o) => o.kind === spec.kind);
  for (const o of wanted) await applyWorkloadObject(kube, o);
  const written = wanted.map(key);
  if (op.op === 'access' && !spec.ingress) {
    const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: record.name, namespace: record.namespace } };
    const live = await readObject(kube, ingress);
    if (live?.metadata?.labels?.[WORKLOAD_LABELS.managedBy] === 'edgeport') {
      await deleteObject(kube, ingress);
      written.push('Ingress/' + record.name + ' (deleted)');
    }
  }
  return written;
}

interface LiveController {
  metadata?: { generation?: number; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: { image?: string }[] } };
    jobTemplate?: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };
  };
  status?: { readyReplicas?: number; replicas?: number; active?: number; succeeded?: number };
}

/** The live state of the workload's controller: status from its rollout, ready / desired replicas, images. */
export async function liveStatus(
  kube: KubeClients,
  namespace: string,
  spec: WorkloadSpec,
): Promise<{ status: WorkloadStatus; detail: string; ready: number; desired: number; images: string[] }> {
  const ref = { apiVersion: KIND_API_VERSION[spec.kind], kind: spec.kind, metadata: { name: spec.name, namespace } };
  const obj = await readObject<LiveController & KubernetesObject>(kube, ref);
  if (!obj)
    return {
      status: 'missing',
      detail: `${spec.kind} not found in the cluster`,
      ready: 0,
      desired: spec.replicas,
      images: spec.containers.map((c) => c.image),
    };
  const containers = obj.spec?.template?.spec?.containers ?? obj.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
  const images = containers.map((c) => c.image ?? '').filter(Boolean);
  const { state, detail } = rolloutState(spec.kind, obj as Parameters<typeof rolloutState>[1]);
  if (spec.kind === 'Job' || spec.kind === 'CronJob') {
    const desired = spec.job?.parallelism ?? 1;
    return { status: state === 'done' ? 'available' : state, detail, ready: obj.status?.active ?? obj.status?.succeeded ?? 0, desired, images };
  }
  const desired = obj.spec?.replicas ?? 1;
  const ready = obj.status?.readyReplicas ?? 0;
  if (desired === 0 && (obj.status?.replicas ?? 0) === 0) return { status: 'stopped', detail: 'scaled to 0', ready, desired, images };
  return { status: state === 'done' ? 'available' : state, detail, ready, desired, images };
}

interface LiveService {
  spec?: { type?: string; clusterIP?: string; ports?: { port?: number; nodePort?: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}
interface LiveIngress {
  spec?: { tls?: unknown[]; rules?: { host?: string; http?: { paths?: { path?: string }[] } }[] };
}

/** Access addresses from the live Service (ClusterIP, node ports, load balancer ingress) and Ingress (host). */
export async function liveAccess(kube: KubeClients, namespace: string, spec: WorkloadSpec): Promise<WorkloadAccessAddress[]> {
  const out: WorkloadAccessAddress[] = [];
  if (!spec.service) return out;
  const svc = await readObject<LiveService & KubernetesObject>(kube, { apiVersion: 'v1', kind: 'Service', metadata: { name: spec.name, namespace } });
  for (const p of svc?.spec?.ports ?? []) {
    if (svc?.spec?.clusterIP && svc.spec.clusterIP !== 'None') out.push({ kind: 'ClusterIP', address: `${svc.spec.clusterIP}:${p.port}` });
    if (p.nodePort && (svc?.spec?.type === 'NodePort' || svc?.spec?.type === 'LoadBalancer')) out.push({ kind: 'NodePort', address: `<node>:${p.nodePort}` });
    for (const lb of svc?.status?.loadBalancer?.ingress ?? []) out.push({ kind: 'LoadBalancer', address: `${lb.ip ?? lb.hostname}:${p.port}` });
  }
  if (spec.ingress) {
    const ing = await readObject<LiveIngress & KubernetesObject>(kube, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: spec.name, namespace },
    });
    const scheme = ing?.spec?.tls?.length ? 'https' : 'http';
    for (const r of ing?.spec?.rules ?? [])
      for (const p of r.http?.paths ?? [{ path: '/' }]) out.push({ kind: 'Ingress', address: `${scheme}://${r.host}${p.path ?? '/'}` });
  }
  return out;
}

const podView = (p: V1Pod): WorkloadPodView => ({
  name: p.metadata?.name ?? '',
  ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
  phase: p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Unknown'),
  restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
  ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
  containers: (p.spec?.containers ?? []).map((c) => c.name),
  ...(p.status?.startTime ? { startedAt: new Date(p.status.startTime).toISOString() } : {}),
});

/** The workload's pods (by its name label), sorted by name. */
export async function podsOf(kube: KubeClients, namespace: string, name: string): Promise<WorkloadPodView[]> {
  try {
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: `${WORKLOAD_LABELS.name}=${name}` });
    return items.map(podView).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    return mapKubeError(err, `list pods of ${namespace}/${name}`);
  }
}

const eventTime = (e: CoreV1Event): string | undefined => {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).toISOString() : undefined;
};

/**
 * Events (core events API) whose involved object is the workload, its Service / Ingress / HPA, its pods,
 * or the ReplicaSets / Jobs its controller made (names `<workload>-…`), newest first, at most `limit`.
 */
export async function eventsOf(kube: KubeClients, namespace: string, name: string, pods: readonly string[], limit = 100): Promise<WorkloadEventView[]> {
  let items: CoreV1Event[];
  try {
    items = (await kube.core.listNamespacedEvent({ namespace })).items;
  } catch (err) {
    return mapKubeError(err, `list events in ${namespace}`);
  }
  const podSet = new Set(pods);
  return items
    .filter((e) => {
      const n = e.involvedObject?.name ?? '';
      return n === name || podSet.has(n) || n.startsWith(`${name}-`);
    })
    .map((e) => ({
      type: e.type ?? 'Normal',
      reason: e.reason ?? '',
      message: e.message ?? '',
      object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
      count: e.count ?? 1,
      ...(eventTime(e) ? { lastAt: eventTime(e) } : {}),
    }))
    .sort((a, b) => (b.lastAt ?? '').localeCompare(a.lastAt ?? ''))
    .slice(0, limit);
}

/** The last `tailLines` lines of a container's log (pod-log API). */
export async function podLog(kube: KubeClients, namespace: string, pod: string, container: string, tailLines: number): Promise<string> {
  try {
    return await kube.core.readNamespacedPodLog({ name: pod, namespace, container, tailLines });
  } catch (err) {
    return mapKubeError(err, `read log of ${namespace}/${pod}/${container}`);
  }
}
