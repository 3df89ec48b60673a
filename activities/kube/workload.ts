import { ApiException, PatchStrategy, type KubernetesObject, type V1Container, type V1EnvVar, type V1Probe } from '@kubernetes/client-node';
import { isOwnedVolume, REVISION_ANNOTATION, WORKLOAD_LABELS, type WorkloadContainer, type WorkloadSpec } from '../../common/workload.ts';
import { FIELD_MANAGER, isNotFound, mapKubeError, type KubeClients } from './client.ts';

/** Who and what the objects of one workload revision belong to. */
export interface WorkloadOwner {
  vdcId: string;
  namespace: string;
  ticketId: string;
  revision: number;
}

type Probe = NonNullable<WorkloadContainer['livenessProbe']>;

const probe = (p: Probe | undefined): V1Probe | undefined =>
  p && {
    ...(p.httpGet ? { httpGet: { path: p.httpGet.path, port: p.httpGet.port } } : {}),
    ...(p.tcpSocket ? { tcpSocket: { port: p.tcpSocket.port } } : {}),
    ...(p.exec ? { exec: { command: p.exec.command } } : {}),
    ...(p.initialDelaySeconds !== undefined ? { initialDelaySeconds: p.initialDelaySeconds } : {}),
    ...(p.periodSeconds !== undefined ? { periodSeconds: p.periodSeconds } : {}),
    ...(p.failureThreshold !== undefined ? { failureThreshold: p.failureThreshold } : {}),
  };

const envVar = (e: NonNullable<WorkloadContainer['env']>[number]): V1EnvVar => {
  if ('value' in e) return { name: e.name, value: e.value };
  if ('configMapRef' in e) return { name: e.name, valueFrom: { configMapKeyRef: { name: e.configMapRef.name, key: e.configMapRef.key } } };
  return { name: e.name, valueFrom: { secretKeyRef: { name: e.secretRef.name, key: e.secretRef.key } } };
};

const resources = (r: WorkloadContainer['requests']): Record<string, string> | undefined =>
  r && (r.cpu || r.memory) ? { ...(r.cpu ? { cpu: r.cpu } : {}), ...(r.memory ? { memory: r.memory } : {}) } : undefined;

function container(c: WorkloadContainer): V1Container {
  const requests = resources(c.requests);
  const limits = resources(c.limits);
  return {
    name: c.name,
    image: c.image,
    ...(c.imagePullPolicy ? { imagePullPolicy: c.imagePullPolicy } : {}),
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    ...(c.env ? { env: c.env.map(envVar) } : {}),
    ...(c.ports ? { ports: c.ports.map((p) => ({ containerPort: p.containerPort, ...(p.name ? { name: p.name } : {}) })) } : {}),
    ...(requests || limits ? { resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } } : {}),
    ...(c.livenessProbe ? { livenessProbe: probe(c.livenessProbe) } : {}),
    ...(c.readinessProbe ? { readinessProbe: probe(c.readinessProbe) } : {}),
    ...(c.securityContext ? { securityContext: { ...c.securityContext } } : {}),
    ...(c.volumeMounts ? { volumeMounts: c.volumeMounts.map((m) => ({ name: m.volume, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true } : {}) })) } : {}),
  };
}

/** Labels on every object of the workload; the selector uses the name label only (stable across tickets). */
export function workloadLabels(spec: WorkloadSpec, owner: WorkloadOwner): Record<string, string> {
  return { [WORKLOAD_LABELS.vdc]: owner.vdcId, [WORKLOAD_LABELS.ticket]: owner.ticketId, [WORKLOAD_LABELS.name]: spec.name, [WORKLOAD_LABELS.managedBy]: 'edgeport' };
}

/**
 * Every object of one revision, in apply order (config and volumes before the controller that uses them,
 * Service and HPA after). Deleting runs the list backwards.
 */
export function workloadObjects(spec: WorkloadSpec, owner: WorkloadOwner): KubernetesObject[] {
  const { namespace } = owner;
  const labels = workloadLabels(spec, owner);
  const meta = (name: string) => ({ name, namespace, labels });
  const selector = { [WORKLOAD_LABELS.name]: spec.name };
  const objects: KubernetesObject[] = [];
  for (const cm of spec.configMaps ?? []) objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(cm.name), data: cm.data } as KubernetesObject);
  for (const v of (spec.volumes ?? []).filter(isOwnedVolume)) {
    objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta(v.name),
      spec: { accessModes: [v.accessMode], resources: { requests: { storage: v.size } }, ...(v.storageClass ? { storageClassName: v.storageClass } : {}) },
    } as KubernetesObject);
  }
  const podSpec = {
    containers: spec.containers.map(container),
    ...(spec.volumes?.length ? { volumes: spec.volumes.map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: v.name } })) } : {}),
    ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
  };
  const template = { metadata: { labels: { ...selector, [WORKLOAD_LABELS.vdc]: owner.vdcId }, annotations: { [REVISION_ANNOTATION]: String(owner.revision) } }, spec: podSpec };
  // With an HPA the replica count is the autoscaler's: leaving it out of the applied fields keeps the two from fighting.
  const replicas = spec.hpa ? {} : { replicas: spec.replicas };
  if (spec.kind === 'Deployment') {
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...meta(spec.name), annotations: { [REVISION_ANNOTATION]: String(owner.revision) } },
      spec: { ...replicas, revisionHistoryLimit: 10, selector: { matchLabels: selector }, strategy: { type: spec.strategy ?? 'RollingUpdate' }, template },
    } as KubernetesObject);
  } else {
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { ...meta(spec.name), annotations: { [REVISION_ANNOTATION]: String(owner.revision) } },
      spec: { ...replicas, revisionHistoryLimit: 10, serviceName: spec.name, selector: { matchLabels: selector }, updateStrategy: { type: 'RollingUpdate' }, template },
    } as KubernetesObject);
  }
  if (spec.service) {
    const s = spec.service;
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(spec.name),
      spec: { type: s.type, selector, ports: [{ name: 'main', port: s.port, targetPort: s.targetPort ?? s.port, ...(s.nodePort ? { nodePort: s.nodePort } : {}) }] },
    } as KubernetesObject);
  }
  if (spec.hpa) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(spec.name),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: spec.kind, name: spec.name },
        minReplicas: spec.hpa.minReplicas,
        maxReplicas: spec.hpa.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.hpa.cpuPercent } } }],
      },
    } as KubernetesObject);
  }
  return objects;
}

const where = (o: KubernetesObject): string => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`;
const header = (o: KubernetesObject) => ({ apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? '', metadata: { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? '' } });

/** Reads an object by the header of `obj`; undefined when absent. */
export async function readObject<T extends KubernetesObject>(kube: KubeClients, obj: KubernetesObject): Promise<T | undefined> {
  try {
    return (await kube.objects.read(header(obj))) as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    return mapKubeError(err, `read ${where(obj)}`);
  }
}

/**
 * Server-side dry-run apply (`dryRun: All`): the kube-apiserver validates, defaults and admits the object
 * (quota and admission included) without storing it. Returns the refusal message, or undefined when it
 * would be accepted. Transient faults are thrown (retried).
 */
export async function dryRunApply(kube: KubeClients, obj: KubernetesObject): Promise<string | undefined> {
  try {
    await kube.objects.patch(obj, undefined, 'All', FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    return undefined;
  } catch (err) {
    if (err instanceof ApiException && err.code >= 400 && err.code < 500 && err.code !== 409 && err.code !== 429) {
      const body = typeof err.body === 'string' ? (JSON.parse(err.body || '{}') as { message?: string }) : (err.body as { message?: string } | undefined);
      return `${where(obj)}: ${body?.message ?? err.message}`;
    }
    throw err;
  }
}

/** Server-side applies with Edgeport's field manager (forced). */
export async function applyWorkloadObject(kube: KubeClients, obj: KubernetesObject): Promise<void> {
  try {
    await kube.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (err) {
    mapKubeError(err, `apply ${where(obj)}`);
  }
}

/** Deletes the object (background propagation) if present. */
export async function deleteObject(kube: KubeClients, obj: KubernetesObject): Promise<void> {
  try {
    await kube.objects.delete(header(obj), undefined, undefined, undefined, undefined, 'Background');
  } catch (err) {
    if (isNotFound(err)) return;
    mapKubeError(err, `delete ${where(obj)}`);
  }
}

/** Names of the pods of a workload (by its name label). */
export async function workloadPods(kube: KubeClients, namespace: string, name: string): Promise<{ name: string; phase: string }[]> {
  try {
    const { items } = await kube.core.listNamespacedPod({ namespace, labelSelector: `${WORKLOAD_LABELS.name}=${name}` });
    return items.map((p) => ({ name: p.metadata?.name ?? '', phase: p.status?.phase ?? 'Unknown' }));
  } catch (err) {
    return mapKubeError(err, `list pods of ${namespace}/${name}`);
  }
}

interface ControllerStatus {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/**
 * Where a rollout stands: `done` when the controller observed the current generation and every desired
 * replica is updated and ready (and, for a StatefulSet, the current revision is the update revision);
 * `failed` when a Deployment reports ProgressDeadlineExceeded.
 */
export function rolloutState(kind: WorkloadSpec['kind'], obj: ControllerStatus): { state: 'done' | 'progressing' | 'failed'; detail: string } {
  const want = obj.spec?.replicas ?? 1;
  const s = obj.status ?? {};
  const detail = `${s.updatedReplicas ?? 0}/${want} updated, ${s.readyReplicas ?? 0} ready`;
  const stalled = s.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  if (stalled) return { state: 'failed', detail: stalled.message ?? 'progress deadline exceeded' };
  const observed = (s.observedGeneration ?? 0) >= (obj.metadata?.generation ?? 1);
  const updated = (s.updatedReplicas ?? 0) >= want && (s.readyReplicas ?? 0) >= want;
  const settled = kind === 'Deployment' ? (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) >= want : s.currentRevision === s.updateRevision;
  return { state: observed && updated && settled ? 'done' : 'progressing', detail };
}
