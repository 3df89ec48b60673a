import { createHash } from 'node:crypto';
import { ApiException, PatchStrategy, type KubernetesObject, type V1Container, type V1EnvVar, type V1Probe, type V1Toleration } from '@kubernetes/client-node';
import {
  isOwnedVolume,
  KIND_API_VERSION,
  podCount,
  REVISION_ANNOTATION,
  WORKLOAD_LABELS,
  type OwnedVolume,
  type WorkloadContainer,
  type WorkloadPreview,
  type WorkloadSpec,
} from '../../common/workload.ts';
import type { ConfigMount, WorkloadToleration } from '../../common/workload.ts';
import { FIELD_MANAGER, isNotFound, mapKubeError, type KubeClients } from './client.ts';
import { parseQuantity } from './quantity.ts';
import { SPACE_CONTAINER_DEFAULTS } from './space.ts';
import { PULL_SECRET_NAME } from '../../common/pull-credentials.ts';

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
    ...(c.volumeMounts || c.configMounts
      ? {
          volumeMounts: [
            ...(c.volumeMounts ?? []).map((m) => ({ name: m.volume, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true } : {}) })),
            ...(c.configMounts ?? []).map((m) => ({ name: configVolumeName(m), mountPath: m.mountPath, readOnly: true, ...(m.key ? { subPath: m.key } : {}) })),
          ],
        }
      : {}),
  };
}

/**
 * Pod volume name of a mounted ConfigMap / Secret: a short hash of kind and name (object names are up to 63
 * characters, like volume names, so a prefix would not fit), the same for every mount of one object.
 */
export const configVolumeName = (m: ConfigMount): string =>
  `cfg-${createHash('sha256')
    .update(m.secret !== undefined ? `Secret/${m.secret}` : `ConfigMap/${m.configMap ?? ''}`)
    .digest('hex')
    .slice(0, 12)}`;

/** Pod volumes of type configMap / secret for the containers' config mounts, one per object. */
function configVolumes(spec: WorkloadSpec): Record<string, unknown>[] {
  const out = new Map<string, Record<string, unknown>>();
  for (const m of spec.containers.flatMap((c) => c.configMounts ?? [])) {
    const name = configVolumeName(m);
    if (!out.has(name)) out.set(name, m.secret !== undefined ? { name, secret: { secretName: m.secret } } : { name, configMap: { name: m.configMap } });
  }
  return [...out.values()];
}

/** ingress-nginx annotations for the Ingress settings of the spec. */
export const INGRESS_ANNOTATIONS = {
  connectTimeoutSeconds: 'nginx.ingress.kubernetes.io/proxy-connect-timeout',
  readTimeoutSeconds: 'nginx.ingress.kubernetes.io/proxy-read-timeout',
  sendTimeoutSeconds: 'nginx.ingress.kubernetes.io/proxy-send-timeout',
  bodySize: 'nginx.ingress.kubernetes.io/proxy-body-size',
} as const;

/** podAffinity / podAntiAffinity terms selecting the pods of other workloads by their name label. */
function affinity(spec: WorkloadSpec): Record<string, unknown> | undefined {
  if (!spec.affinity?.length) return undefined;
  const out: Record<string, { requiredDuringSchedulingIgnoredDuringExecution?: unknown[]; preferredDuringSchedulingIgnoredDuringExecution?: unknown[] }> = {};
  for (const a of spec.affinity) {
    const key = a.type === 'affinity' ? 'podAffinity' : 'podAntiAffinity';
    const term = { labelSelector: { matchLabels: { [WORKLOAD_LABELS.name]: a.workload } }, topologyKey: a.topologyKey ?? 'kubernetes.io/hostname' };
    const slot = (out[key] ??= {});
    if (a.required) (slot.requiredDuringSchedulingIgnoredDuringExecution ??= []).push(term);
    else (slot.preferredDuringSchedulingIgnoredDuringExecution ??= []).push({ weight: 100, podAffinityTerm: term });
  }
  return out;
}

/** A pod toleration (Kubernetes defaults the operator to Equal; written out so the applied object says it). */
const toleration = (t: WorkloadToleration): V1Toleration => ({
  key: t.key,
  operator: t.operator ?? 'Equal',
  ...(t.value !== undefined && t.operator !== 'Exists' ? { value: t.value } : {}),
  ...(t.effect ? { effect: t.effect } : {}),
  ...(t.tolerationSeconds !== undefined ? { tolerationSeconds: t.tolerationSeconds } : {}),
});

/** Labels on every object of the workload; the selector uses the name label only (stable across tickets). */
export function workloadLabels(spec: WorkloadSpec, owner: WorkloadOwner): Record<string, string> {
  return {
    [WORKLOAD_LABELS.vdc]: owner.vdcId,
    [WORKLOAD_LABELS.ticket]: owner.ticketId,
    [WORKLOAD_LABELS.name]: spec.name,
    [WORKLOAD_LABELS.managedBy]: 'edgeport',
  };
}

/** The claim of a volume (a workload's own, or a standalone one made with the volume API). */
export function persistentVolumeClaim(v: OwnedVolume, metadata: { name: string; namespace: string; labels: Record<string, string> }): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata,
    spec: { accessModes: [v.accessMode], resources: { requests: { storage: v.size } }, ...(v.storageClass ? { storageClassName: v.storageClass } : {}) },
  } as KubernetesObject;
}

/**
 * The labels selecting a workload's pods in its namespace (a subset of {@link workloadLabels}: the ticket
 * label changes with each revision, so only the name label selects). NetworkPolicies select by it too.
 */
export const workloadPodSelector = (name: string): Record<string, string> => ({ [WORKLOAD_LABELS.name]: name });

/**
 * Every object of one revision, in apply order (config and volumes before the controller that uses them,
 * Service and HPA after). Deleting runs the list backwards.
 */
export function workloadObjects(spec: WorkloadSpec, owner: WorkloadOwner): KubernetesObject[] {
  const { namespace } = owner;
  const labels = workloadLabels(spec, owner);
  const meta = (name: string) => ({ name, namespace, labels });
  const selector = workloadPodSelector(spec.name);
  const objects: KubernetesObject[] = [];
  for (const cm of spec.configMaps ?? []) objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(cm.name), data: cm.data } as KubernetesObject);
  for (const v of (spec.volumes ?? []).filter(isOwnedVolume)) objects.push(persistentVolumeClaim(v, meta(v.name)));
  const podSpec = {
    containers: spec.containers.map(container),
    // The VDC's pull credential (every namespace of the VDC holds it): kubelet pulls private images with it.
    imagePullSecrets: [{ name: PULL_SECRET_NAME }],
    ...(spec.volumes?.length || configVolumes(spec).length
      ? { volumes: [...(spec.volumes ?? []).map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: v.name } })), ...configVolumes(spec)] }
      : {}),
    ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    ...(spec.tolerations?.length ? { tolerations: spec.tolerations.map(toleration) } : {}),
    ...(spec.affinity?.length ? { affinity: affinity(spec) } : {}),
  };
  const template = {
    metadata: { labels: { ...selector, [WORKLOAD_LABELS.vdc]: owner.vdcId }, annotations: { [REVISION_ANNOTATION]: String(owner.revision) } },
    spec: podSpec,
  };
  // With an HPA the replica count is the autoscaler's: leaving it out of the applied fields keeps the two from fighting.
  const replicas = spec.hpa ? {} : { replicas: spec.replicas };
  const controllerMeta = { ...meta(spec.name), annotations: { [REVISION_ANNOTATION]: String(owner.revision) } };
  const apiVersion = KIND_API_VERSION[spec.kind];
  if (spec.kind === 'Deployment') {
    objects.push({
      apiVersion,
      kind: 'Deployment',
      metadata: controllerMeta,
      spec: { ...replicas, revisionHistoryLimit: 10, selector: { matchLabels: selector }, strategy: { type: spec.strategy ?? 'RollingUpdate' }, template },
    } as KubernetesObject);
  } else if (spec.kind === 'StatefulSet') {
    objects.push({
      apiVersion,
      kind: 'StatefulSet',
      metadata: controllerMeta,
      spec: {
        ...replicas,
        revisionHistoryLimit: 10,
        serviceName: spec.name,
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate' },
        template,
        // One claim per replica per template (mounted by the template name). Deleting the workload deletes them,
        // like the volumes it owns; scaling down keeps them (a replica that comes back finds its data).
        ...(spec.volumeClaimTemplates?.length
          ? {
              volumeClaimTemplates: spec.volumeClaimTemplates.map((t) => ({
                // No ticket label: templates cannot change after creation, and the ticket label does with each revision.
                metadata: {
                  name: t.name,
                  labels: { [WORKLOAD_LABELS.vdc]: owner.vdcId, [WORKLOAD_LABELS.name]: spec.name, [WORKLOAD_LABELS.managedBy]: 'edgeport' },
                },
                spec: {
                  accessModes: [t.accessMode],
                  resources: { requests: { storage: t.size } },
                  ...(t.storageClass ? { storageClassName: t.storageClass } : {}),
                },
              })),
              persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
            }
          : {}),
      },
    } as KubernetesObject);
  } else {
    const j = spec.job ?? {};
    const jobSpec = {
      ...(j.completions !== undefined ? { completions: j.completions } : {}),
      ...(j.parallelism !== undefined ? { parallelism: j.parallelism } : {}),
      ...(j.backoffLimit !== undefined ? { backoffLimit: j.backoffLimit } : {}),
      ...(j.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: j.activeDeadlineSeconds } : {}),
      template: { ...template, spec: { ...podSpec, restartPolicy: j.restartPolicy ?? 'OnFailure' } },
    };
    objects.push(
      (spec.kind === 'Job'
        ? { apiVersion, kind: 'Job', metadata: controllerMeta, spec: jobSpec }
        : {
            apiVersion,
            kind: 'CronJob',
            metadata: controllerMeta,
            spec: {
              schedule: spec.schedule,
              concurrencyPolicy: 'Forbid',
              successfulJobsHistoryLimit: 3,
              failedJobsHistoryLimit: 3,
              jobTemplate: { metadata: { labels: template.metadata.labels }, spec: jobSpec },
            },
          }) as unknown as KubernetesObject,
    );
  }
  if (spec.service) {
    const s = spec.service;
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(spec.name),
      spec: {
        type: s.type,
        selector,
        ports: [{ name: 'main', port: s.port, targetPort: s.targetPort ?? s.port, ...(s.nodePort ? { nodePort: s.nodePort } : {}) }],
        ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
        ...(s.sessionAffinity ? { sessionAffinity: s.sessionAffinity } : {}),
      },
    } as KubernetesObject);
  }
  if (spec.service && spec.ingress) {
    const i = spec.ingress;
    const annotations: Record<string, string> = {};
    for (const [field, annotation] of Object.entries(INGRESS_ANNOTATIONS) as [keyof typeof INGRESS_ANNOTATIONS, string][]) {
      const v = i[field];
      if (v !== undefined) annotations[annotation] = String(v);
    }
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { ...meta(spec.name), ...(Object.keys(annotations).length ? { annotations } : {}) },
      spec: {
        ingressClassName: i.className ?? 'nginx',
        ...(i.tlsSecretName ? { tls: [{ hosts: [i.host], secretName: i.tlsSecretName }] } : {}),
        rules: [
          {
            host: i.host,
            http: { paths: [{ path: i.path ?? '/', pathType: 'Prefix', backend: { service: { name: spec.name, port: { number: spec.service.port } } } }] },
          },
        ],
      },
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
const header = (o: KubernetesObject) => ({
  apiVersion: o.apiVersion ?? 'v1',
  kind: o.kind ?? '',
  metadata: { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? '' },
});

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
  if (kind === 'CronJob') return { state: 'done', detail: 'scheduled' };
  if (kind === 'Job') {
    const s = (obj.status ?? {}) as { succeeded?: number; active?: number; failed?: number; conditions?: { type: string; status: string; message?: string }[] };
    const detail = `${s.succeeded ?? 0} succeeded, ${s.active ?? 0} active, ${s.failed ?? 0} failed`;
    const failed = s.conditions?.find((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True');
    if (failed) return { state: 'failed', detail: failed.message ?? detail };
    return { state: s.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? 'done' : 'progressing', detail };
  }
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

/**
 * Kinds Edgeport creates beside the controller; an upgrade deletes those of them the new spec dropped
 * (`pruneCandidates`). The controller itself is never pruned (a workload's kind cannot change).
 */
export const PRUNABLE_KINDS = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
] as const;

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

/** Whether Edgeport's field manager applied the object (as opposed to someone labelling a look-alike by hand). */
const appliedByEdgeport = (o: KubernetesObject): boolean =>
  ((o.metadata?.managedFields ?? []) as ManagedFieldsEntry[]).some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply');

/**
 * Objects of the workload `name` in the namespace that the objects of the new revision (`keep`) no longer
 * contain: labelled with the workload's name and managed-by Edgeport, and applied by the `edgeport` field
 * manager. Returned in prune order (PersistentVolumeClaims last, so data goes only after everything else).
 */
export async function pruneCandidates(kube: KubeClients, namespace: string, name: string, keep: readonly KubernetesObject[]): Promise<KubernetesObject[]> {
  const kept = new Set(keep.map((o) => `${o.kind}/${o.metadata?.name}`));
  const labelSelector = `${WORKLOAD_LABELS.name}=${name},${WORKLOAD_LABELS.managedBy}=edgeport`;
  const out: KubernetesObject[] = [];
  for (const k of PRUNABLE_KINDS) {
    try {
      const list = await kube.objects.list(k.apiVersion, k.kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      for (const item of [...list.items].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
        if (kept.has(`${k.kind}/${item.metadata?.name}`) || !appliedByEdgeport(item)) continue;
        out.push({ apiVersion: k.apiVersion, kind: k.kind, metadata: { name: item.metadata?.name ?? '', namespace, labels: item.metadata?.labels ?? {} } });
      }
    } catch (err) {
      mapKubeError(err, `list ${k.kind} of ${name} in ${namespace}`);
    }
  }
  return out;
}

interface PodVolumeHolder {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: {
    volumes?: { persistentVolumeClaim?: { claimName?: string } }[];
    template?: { spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } };
    jobTemplate?: { spec?: { template?: { spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } } } };
  };
}

const CONTROLLER_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'v1', kind: 'Pod' },
] as const;

/**
 * Who mounts the claim besides the workload `except`: controllers whose pod template names it and bare
 * pods (pods of a workload are attributed to it by its name label). Messages like `workload db`, `pod x`.
 */
export async function claimUsers(kube: KubeClients, namespace: string, claim: string, except: string): Promise<string[]> {
  const users = new Set<string>();
  for (const k of CONTROLLER_KINDS) {
    let items: (PodVolumeHolder & KubernetesObject)[];
    try {
      items = (await kube.objects.list<PodVolumeHolder & KubernetesObject>(k.apiVersion, k.kind, namespace)).items;
    } catch (err) {
      return mapKubeError(err, `list ${k.kind} in ${namespace}`);
    }
    for (const item of items) {
      const volumes = item.spec?.volumes ?? item.spec?.template?.spec?.volumes ?? item.spec?.jobTemplate?.spec?.template?.spec?.volumes ?? [];
      if (!volumes.some((v) => v.persistentVolumeClaim?.claimName === claim)) continue;
      const workload = item.metadata?.labels?.[WORKLOAD_LABELS.name];
      if (workload === except) continue;
      users.add(k.kind === 'Pod' && !workload ? `pod ${item.metadata?.name}` : `workload ${workload ?? item.metadata?.name}`);
    }
  }
  return [...users].sort();
}

/** JSON with object keys sorted, so equal objects hash equally whatever order the server wrote them in. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * What the kube-apiserver would make of the object, minus what changes without anyone changing it:
 * identity and version fields (the uid wherever it is copied), timestamps, status, the addresses a
 * Service gets allocated, and the replica count of a controller an HPA scales. Field
 * managers stay (without their timestamps), so an object someone else edited fingerprints differently.
 */
export function objectFingerprint(o: KubernetesObject & { spec?: Record<string, unknown>; status?: unknown }, desired: KubernetesObject): string {
  const meta = { ...(o.metadata ?? {}) } as Record<string, unknown>;
  for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink']) delete meta[k];
  meta.managedFields = ((o.metadata?.managedFields ?? []) as ManagedFieldsEntry[])
    .filter((f) => !f.subresource)
    .map((f) => ({ manager: f.manager, operation: f.operation, apiVersion: f.apiVersion, fieldsV1: f.fieldsV1 }))
    .sort((a, b) => `${a.manager}/${a.operation}`.localeCompare(`${b.manager}/${b.operation}`));
  const spec = o.spec ? { ...o.spec } : undefined;
  // With an HPA the replica count is the autoscaler's (Edgeport leaves it out), so scaling is no drift.
  if (spec && (o.kind === 'Deployment' || o.kind === 'StatefulSet') && (desired as { spec?: { replicas?: number } }).spec?.replicas === undefined)
    delete spec.replicas;
  if (o.kind === 'Service' && spec) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    const wanted = ((desired as { spec?: { ports?: { nodePort?: number }[] } }).spec?.ports ?? []).map((p) => p.nodePort);
    spec.ports = ((spec.ports ?? []) as { nodePort?: number }[]).map((p, i) => (wanted[i] === undefined ? { ...p, nodePort: undefined } : p));
  }
  const { status: _status, ...rest } = o;
  void _status;
  const json = stableJson({ ...rest, metadata: meta, ...(spec ? { spec } : {}) });
  // A dry-run create makes up a uid each time, and a Job copies it into its selector and pod labels.
  const uid = o.metadata?.uid;
  return uid ? json.replaceAll(uid, '<uid>') : json;
}

/** Result of {@link dryRunPreview}: a refusal, or the fingerprint and any field conflicts with other managers. */
export type DryRunOutcome = { refused: string } | { fingerprint: string; conflict?: string };

const problemMessage = (err: ApiException<unknown>): string => {
  const body = typeof err.body === 'string' ? (JSON.parse(err.body || '{}') as { message?: string }) : (err.body as { message?: string } | undefined);
  return body?.message ?? err.message;
};

/**
 * Server-side dry-run apply (`dryRun: All`) without forcing: a field another manager changed since
 * Edgeport last applied comes back as a conflict (409), reported and then dry-run again forced to get the
 * result. The outcome's fingerprint is what the preview hash is built from; a refusal (4xx) is returned,
 * transient faults are thrown (retried).
 */
export async function dryRunPreview(kube: KubeClients, obj: KubernetesObject): Promise<DryRunOutcome> {
  let conflict: string | undefined;
  for (const force of [false, true]) {
    try {
      const result = await kube.objects.patch(obj, undefined, 'All', FIELD_MANAGER, force, PatchStrategy.ServerSideApply);
      return { fingerprint: objectFingerprint(result, obj), ...(conflict ? { conflict } : {}) };
    } catch (err) {
      if (!force && err instanceof ApiException && err.code === 409) {
        conflict = `${where(obj)}: ${problemMessage(err)}`;
        continue;
      }
      if (err instanceof ApiException && err.code >= 400 && err.code < 500 && err.code !== 409 && err.code !== 429)
        return { refused: `${where(obj)}: ${problemMessage(err)}` };
      throw err;
    }
  }
  throw new Error(`dry-run of ${where(obj)} returned nothing`);
}

/** What the workload adds to the namespace's quota at its replica count (HPA: its maximum). */
export function workloadRequests(spec: WorkloadSpec): WorkloadPreview['requests'] {
  const replicas = podCount(spec);
  let cpu = 0;
  let mem = 0;
  for (const c of spec.containers) {
    cpu += parseQuantity(c.requests?.cpu ?? SPACE_CONTAINER_DEFAULTS.defaultRequest.cpu);
    mem += parseQuantity(c.requests?.memory ?? SPACE_CONTAINER_DEFAULTS.defaultRequest.memory);
  }
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { cpu: round(cpu * replicas), memoryGi: round((mem * replicas) / 2 ** 30), pods: replicas };
}
