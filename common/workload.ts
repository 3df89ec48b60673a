import type { CostPreview } from './billing.ts';
import { z } from 'zod';
import { displayText } from './display-text.ts';

/**
 * The workload contract: the request bodies of `workload-deploy` / `workload-rollback`, the spec recorded
 * per revision, the preview and the failure types (the workflow's input and result: `workload-workflow.ts`). Shared by api, policies,
 * workflows and activities.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (max = 63) => z.string().min(1).max(max).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits, -)');
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** cpu: `250m`, `1`, `0.5`; memory/storage: `128Mi`, `1Gi`. */
const cpuQuantity = z.string().regex(/^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/, 'must be a cpu quantity like 250m or 1');
const byteQuantity = z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/, 'must be a quantity like 128Mi or 1Gi');

const ResourcesSchema = z.strictObject({ cpu: cpuQuantity.optional(), memory: byteQuantity.optional() });

/** Largest PersistentVolumeClaim one volume or claim template may request. */
export const MAX_VOLUME_SIZE = '64Ti';
/**
 * The size of a volume or claim template: a binary Kubernetes quantity, positive, at most {@link MAX_VOLUME_SIZE}
 * (so `99999999999999999999Ti` is a 400 naming `size`, never a number no ledger line can price).
 */
export const volumeSizeField = z
  .string()
  .max(20, { message: `must be a quantity like 512Mi, 10Gi or 1Ti, at most ${MAX_VOLUME_SIZE}`, abort: true })
  .regex(/^[1-9][0-9]{0,14}(Ki|Mi|Gi|Ti)$/, { message: 'must be a quantity like 512Mi, 10Gi or 1Ti', abort: true })
  .refine((s) => volumeBytes(s) <= volumeBytes(MAX_VOLUME_SIZE), { message: `must be at most ${MAX_VOLUME_SIZE} per volume` });

const EnvVarSchema = z.union([
  z.strictObject({ name: z.string().min(1).max(253).regex(ENV_NAME, 'must be an environment variable name'), value: z.string().max(32_768) }),
  z.strictObject({
    name: z.string().min(1).max(253).regex(ENV_NAME, 'must be an environment variable name'),
    configMapRef: z.strictObject({ name: dnsLabel(), key: z.string().min(1).max(253).regex(CONFIG_KEY) }),
  }),
  z.strictObject({
    name: z.string().min(1).max(253).regex(ENV_NAME, 'must be an environment variable name'),
    secretRef: z.strictObject({ name: dnsLabel(), key: z.string().min(1).max(253).regex(CONFIG_KEY) }),
  }),
]);

const ProbeSchema = z
  .strictObject({
    httpGet: z.strictObject({ path: z.string().regex(/^\//, 'must start with /').max(1024), port: z.number().int().min(1).max(65535) }).optional(),
    tcpSocket: z.strictObject({ port: z.number().int().min(1).max(65535) }).optional(),
    exec: z.strictObject({ command: z.array(z.string().max(1024)).min(1).max(32) }).optional(),
    initialDelaySeconds: z.number().int().min(0).max(3600).optional(),
    periodSeconds: z.number().int().min(1).max(3600).optional(),
    failureThreshold: z.number().int().min(1).max(100).optional(),
  })
  .refine((p) => [p.httpGet, p.tcpSocket, p.exec].filter(Boolean).length === 1, { message: 'exactly one of httpGet, tcpSocket, exec' });

const VolumeMountSchema = z.strictObject({
  volume: dnsLabel(),
  mountPath: z.string().regex(/^\//, 'must be an absolute path').max(1024),
  readOnly: z.boolean().optional(),
});

/**
 * A ConfigMap or Secret of the namespace mounted as files (the config center's objects, or a ConfigMap of
 * the spec): without `key` the whole object over the directory `mountPath` ("overwrite directory"); with
 * `key` that one key as the file `mountPath` (a subPath mount, "replace one file"). Always read-only.
 */
export const ConfigMountSchema = z
  .strictObject({
    configMap: dnsLabel().optional(),
    secret: dnsLabel().optional(),
    mountPath: z
      .string()
      .regex(/^\/[^:]*$/, 'must be an absolute path')
      .max(1024),
    key: z.string().min(1).max(253).regex(CONFIG_KEY, 'must be a ConfigMap key').optional(),
  })
  .refine((m) => (m.configMap === undefined) !== (m.secret === undefined), { message: 'exactly one of configMap, secret' });
export type ConfigMount = z.infer<typeof ConfigMountSchema>;

export const ContainerSchema = z.strictObject({
  name: dnsLabel(),
  image: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[^\s]+$/, 'must be an image reference'),
  /** Checked by the kube-apiserver only (Always | IfNotPresent | Never); a wrong value fails at dry-run / apply. */
  imagePullPolicy: z.string().max(32).optional(),
  command: z.array(z.string().max(4096)).max(64).optional(),
  args: z.array(z.string().max(4096)).max(256).optional(),
  env: z.array(EnvVarSchema).max(256).optional(),
  ports: z
    .array(z.strictObject({ name: dnsLabel(15).optional(), containerPort: z.number().int().min(1).max(65535) }))
    .max(32)
    .optional(),
  requests: ResourcesSchema.optional(),
  limits: ResourcesSchema.optional(),
  livenessProbe: ProbeSchema.optional(),
  readinessProbe: ProbeSchema.optional(),
  securityContext: z
    .strictObject({
      privileged: z.boolean().optional(),
      runAsNonRoot: z.boolean().optional(),
      runAsUser: z.number().int().min(0).max(2_147_483_647).optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
      allowPrivilegeEscalation: z.boolean().optional(),
    })
    .optional(),
  volumeMounts: z.array(VolumeMountSchema).max(32).optional(),
  /** ConfigMaps / Secrets mounted as files (optional: specs recorded before it still parse). */
  configMounts: z.array(ConfigMountSchema).max(16).optional(),
});
export type WorkloadContainer = z.infer<typeof ContainerSchema>;

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadWriteMany'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/**
 * A volume of the workload: either a PersistentVolumeClaim it owns (created with it; the name is unique in
 * the VDC) or, with `existing: true`, a claim another workload of the same namespace owns, mounted too.
 */
export const VolumeSchema = z.union([
  z.strictObject({
    name: dnsLabel(),
    size: volumeSizeField,
    accessMode: z.enum(ACCESS_MODES),
    storageClass: dnsLabel(253).optional(),
  }),
  z.strictObject({ name: dnsLabel(), existing: z.literal(true) }),
]);
export type WorkloadVolume = z.infer<typeof VolumeSchema>;

/**
 * A volume claim template of a StatefulSet: the StatefulSet controller makes one claim per replica, named
 * `<name>-<workload>-<ordinal>`, and each pod mounts its own (by the template name in `volumeMounts`). The
 * name is unique in the VDC like an owned volume's. Kubernetes forbids changing templates after creation.
 */
export const VolumeClaimTemplateSchema = z.strictObject({
  name: dnsLabel(),
  size: volumeSizeField,
  accessMode: z.enum(ACCESS_MODES),
  storageClass: dnsLabel(253).optional(),
});
export type VolumeClaimTemplate = z.infer<typeof VolumeClaimTemplateSchema>;
export type OwnedVolume = Extract<WorkloadVolume, { size: string }>;
export const isOwnedVolume = (v: WorkloadVolume): v is OwnedVolume => !('existing' in v);

/** Names of the claims a workload makes (its owned volumes and its StatefulSet claim templates): unique in the VDC. */
export const ownedVolumeNames = (spec: {
  volumes?: readonly WorkloadVolume[] | undefined;
  volumeClaimTemplates?: readonly { name: string }[] | undefined;
}): string[] => [...(spec.volumes ?? []).filter(isOwnedVolume).map((v) => v.name), ...(spec.volumeClaimTemplates ?? []).map((t) => t.name)];

export const ConfigMapSchema = z.strictObject({
  name: dnsLabel(),
  data: z.record(z.string().max(253).regex(CONFIG_KEY, 'must be a ConfigMap key'), z.string().max(262_144)),
});

export const ServiceSchema = z
  .strictObject({
    /** LoadBalancer: an external address from MetalLB (the cluster also allocates node ports for it). */
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']),
    port: z.number().int().min(1).max(65535),
    targetPort: z.number().int().min(1).max(65535).optional(),
    /** NodePort only; left to the cluster when absent. */
    nodePort: z.number().int().min(30000).max(32767).optional(),
    /** LoadBalancer only: the address asked of MetalLB. */
    loadBalancerIP: z.ipv4().optional(),
    /** ClientIP: requests of one client go to the same pod. */
    sessionAffinity: z.enum(['None', 'ClientIP']).optional(),
  })
  .refine((s) => s.type === 'LoadBalancer' || s.loadBalancerIP === undefined, { message: 'loadBalancerIP needs type LoadBalancer', path: ['loadBalancerIP'] })
  .refine((s) => s.type !== 'ClusterIP' || s.nodePort === undefined, { message: 'nodePort needs type NodePort or LoadBalancer', path: ['nodePort'] });

const HOST = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const timeoutSeconds = z.number().int().min(1).max(3600);

/**
 * An Ingress routing a host (and path) to the workload's Service, served by ingress-nginx: the timeouts and
 * the body-size limit become its `nginx.ingress.kubernetes.io/proxy-*` annotations; `tlsSecretName` names
 * a Secret of the namespace holding the certificate (TLS for `host`).
 */
export const IngressSchema = z.strictObject({
  host: z.string().max(253).regex(HOST, 'must be a DNS host name like shop.example.com'),
  path: z
    .string()
    .regex(/^\/[^\s]*$/, 'must be an absolute path')
    .max(1024)
    .optional(),
  tlsSecretName: dnsLabel(253).optional(),
  className: dnsLabel().optional(),
  connectTimeoutSeconds: timeoutSeconds.optional(),
  readTimeoutSeconds: timeoutSeconds.optional(),
  sendTimeoutSeconds: timeoutSeconds.optional(),
  /** Largest request body, nginx syntax: `8m`, `512k`, `1g`; `0` = unlimited. */
  bodySize: z
    .string()
    .regex(/^[0-9]{1,6}[kmg]?$/, 'must be a size like 8m, 512k or 1g')
    .optional(),
});

/** Pods of this workload scheduled near (affinity) or away from (anti-affinity) the pods of another workload of the namespace. */
export const WorkloadAffinitySchema = z.strictObject({
  workload: dnsLabel(50),
  type: z.enum(['affinity', 'anti-affinity']),
  /** true: a scheduling requirement; false (default): a preference with weight 100. */
  required: z.boolean().optional(),
  /** Where "near" is measured: node (default `kubernetes.io/hostname`), zone, … */
  topologyKey: z
    .string()
    .min(1)
    .max(317)
    .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9._-]+$/, 'must be a label key')
    .optional(),
});

const LABEL_KEY =
  /^(?=([^/]{1,253}\/)?[^/]{1,63}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const labelKey = z.string().regex(LABEL_KEY, 'must be a label key ([prefix/]name)');
const labelValue = z.string().max(63).regex(LABEL_VALUE, 'must be a label value');

/** Taint effects a toleration may name (absent: every effect). */
export const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TolerationEffect = (typeof TOLERATION_EFFECTS)[number];
/** Most tolerations one workload may carry. */
export const MAX_TOLERATIONS = 16;
/** Longest `tolerationSeconds` (a NoExecute taint evicts the pod after it): one week. */
export const MAX_TOLERATION_SECONDS = 604_800;

/**
 * A toleration of the pod template, as Kubernetes has it, with one restriction: a key is required (an empty
 * key with `Exists` would tolerate every taint, the dedicated taints of other VDCs' joined nodes included).
 * `Equal` (default) matches key and value, `Exists` the key alone; `tolerationSeconds` bounds how long a
 * `NoExecute` taint is tolerated.
 */
export const TolerationSchema = z
  .strictObject({
    key: labelKey,
    operator: z.enum(['Equal', 'Exists']).optional(),
    value: labelValue.optional(),
    effect: z.enum(TOLERATION_EFFECTS).optional(),
    tolerationSeconds: z.number().int().min(0).max(MAX_TOLERATION_SECONDS).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.operator === 'Exists' && t.value !== undefined && t.value !== '')
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'operator Exists takes no value' });
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      ctx.addIssue({ code: 'custom', path: ['tolerationSeconds'], message: 'tolerationSeconds needs effect NoExecute' });
  });
export type WorkloadToleration = z.infer<typeof TolerationSchema>;

/** Whether a toleration tolerates a taint (the kube-scheduler's rule, `v1.Toleration.ToleratesTaint`). */
export function tolerates(t: WorkloadToleration, taint: { key: string; value?: string | undefined; effect: string }): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

/** Job / CronJob run settings (the pod template's restart policy and the Job controller's limits). */
export const JobSettingsSchema = z.strictObject({
  completions: z.number().int().min(1).max(1000).optional(),
  parallelism: z.number().int().min(1).max(100).optional(),
  backoffLimit: z.number().int().min(0).max(100).optional(),
  activeDeadlineSeconds: z.number().int().min(1).max(604_800).optional(),
  restartPolicy: z.enum(['OnFailure', 'Never']).optional(),
});

/** Five cron fields or a macro (`@hourly`, `@daily`, …); the kube-apiserver checks the rest at dry-run. */
const CRON = /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$/;

export const HpaSchema = z
  .strictObject({ minReplicas: z.number().int().min(1).max(100), maxReplicas: z.number().int().min(1).max(100), cpuPercent: z.number().int().min(1).max(100) })
  .refine((h) => h.maxReplicas >= h.minReplicas, { message: 'maxReplicas must be at least minReplicas', path: ['maxReplicas'] });

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** What is deployed: everything one revision of a workload consists of. */
export const WorkloadSpecSchema = z
  .strictObject({
    kind: z.enum(WORKLOAD_KINDS),
    name: dnsLabel(50),
    /** An application space of the VDC; absent = the VDC's default namespace. */
    space: dnsLabel(40).optional(),
    /**
     * The resource pool (one of the VDC's) the workload runs on: it goes to the VDC's namespace there
     * (`vdc-<id>-<pool>` on a further pool). Absent = the VDC's primary pool (or the space's pool).
     */
    pool: dnsLabel(63).optional(),
    replicas: z.number().int().min(0).max(100).default(1),
    /** Deployment only; StatefulSets replace pods one at a time (ordered). */
    strategy: z.enum(['RollingUpdate', 'Recreate']).optional(),
    containers: z.array(ContainerSchema).min(1).max(8),
    service: ServiceSchema.optional(),
    configMaps: z.array(ConfigMapSchema).max(8).optional(),
    volumes: z.array(VolumeSchema).max(8).optional(),
    /** StatefulSet only: one claim per replica from each template. */
    volumeClaimTemplates: z.array(VolumeClaimTemplateSchema).max(4).optional(),
    hpa: HpaSchema.optional(),
    /** Keys and values to the Kubernetes label rules (checked here, before any call to the cluster). */
    nodeSelector: z
      .record(labelKey, labelValue)
      .refine((s) => Object.keys(s).length <= 16, { message: 'at most 16 node selector entries' })
      .optional(),
    /** Taints of the target nodes the pods tolerate (e.g. the taints an edge node join applied). */
    tolerations: z.array(TolerationSchema).max(MAX_TOLERATIONS).optional(),
    /** Needs `service` (the Ingress routes to it). */
    ingress: IngressSchema.optional(),
    affinity: z.array(WorkloadAffinitySchema).max(8).optional(),
    /** Job and CronJob only. */
    job: JobSettingsSchema.optional(),
    /** CronJob only (and required there). */
    schedule: z.string().max(100).regex(CRON, 'must be a cron schedule like "*/5 * * * *" or @hourly').optional(),
  })
  .superRefine((s, ctx) => {
    const batch = s.kind === 'Job' || s.kind === 'CronJob';
    if (s.kind !== 'Deployment' && s.strategy) ctx.addIssue({ code: 'custom', path: ['strategy'], message: 'strategy applies to a Deployment only' });
    if (s.ingress && !s.service) ctx.addIssue({ code: 'custom', path: ['ingress'], message: 'an ingress needs a service to route to' });
    if (batch && s.service) ctx.addIssue({ code: 'custom', path: ['service'], message: `a ${s.kind} has no service` });
    if (batch && s.hpa) ctx.addIssue({ code: 'custom', path: ['hpa'], message: `a ${s.kind} cannot be autoscaled` });
    if (!batch && s.job) ctx.addIssue({ code: 'custom', path: ['job'], message: 'job settings apply to a Job or CronJob only' });
    if (s.kind === 'CronJob' && !s.schedule) ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'a CronJob needs a schedule' });
    if (s.kind !== 'CronJob' && s.schedule) ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'schedule applies to a CronJob only' });
    if (s.kind !== 'StatefulSet' && s.volumeClaimTemplates?.length)
      ctx.addIssue({ code: 'custom', path: ['volumeClaimTemplates'], message: 'volume claim templates apply to a StatefulSet only' });
    const dup = <T>(items: readonly T[], key: (t: T) => string, path: string) => {
      const seen = new Set<string>();
      items.forEach((it, i) => {
        const k = key(it);
        if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [path, i, 'name'], message: `duplicate name ${k}` });
        seen.add(k);
      });
    };
    dup(s.containers, (c) => c.name, 'containers');
    dup(s.configMaps ?? [], (c) => c.name, 'configMaps');
    dup(s.volumes ?? [], (v) => v.name, 'volumes');
    dup(s.volumeClaimTemplates ?? [], (v) => v.name, 'volumeClaimTemplates');
    const volumes = new Set((s.volumes ?? []).map((v) => v.name));
    (s.volumeClaimTemplates ?? []).forEach((t, i) => {
      if (volumes.has(t.name))
        ctx.addIssue({ code: 'custom', path: ['volumeClaimTemplates', i, 'name'], message: `duplicate name ${t.name} (also in volumes)` });
      volumes.add(t.name);
    });
    s.containers.forEach((c, i) =>
      (c.volumeMounts ?? []).forEach((m, j) => {
        if (!volumes.has(m.volume))
          ctx.addIssue({
            code: 'custom',
            path: ['containers', i, 'volumeMounts', j, 'volume'],
            message: `no volume ${m.volume} in volumes or volumeClaimTemplates`,
          });
      }),
    );
  });
export type WorkloadSpec = z.output<typeof WorkloadSpecSchema>;

/** Pods the workload runs at once: replicas (HPA: its maximum), or a Job's / CronJob's parallelism. */
export const podCount = (spec: WorkloadSpec): number =>
  spec.kind === 'Job' || spec.kind === 'CronJob' ? (spec.job?.parallelism ?? 1) : spec.hpa ? spec.hpa.maxReplicas : spec.replicas;

const BYTE_UNITS: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
/** Bytes of a volume size as the schema allows it (`512Mi`, `2Gi`); NaN for anything else. */
export function volumeBytes(size: string): number {
  const m = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(size);
  return m ? Number(m[1]) * (BYTE_UNITS[m[2] as string] as number) : Number.NaN;
}

/** API group/version of each workload kind's controller object. */
export const KIND_API_VERSION: Readonly<Record<WorkloadKind, string>> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1' };

const vdcId = z.string().min(1).max(63).regex(DNS_LABEL, 'must be a DNS label');

/** Body of `POST /api/tickets` deploying a workload, or upgrading one of the same name (a new revision). */
export const WorkloadDeployRequestSchema = z.strictObject({
  type: z.literal('workload-deploy'),
  vdcId,
  workload: WorkloadSpecSchema,
  reason: displayText({ max: 2000, min: 0, multiline: true }).optional(),
});
export type WorkloadDeployRequest = z.infer<typeof WorkloadDeployRequestSchema>;

/** Body of `POST /api/tickets` rolling a workload back to its previous revision, or to `revision`. */
export const WorkloadRollbackRequestSchema = z.strictObject({
  type: z.literal('workload-rollback'),
  vdcId,
  name: dnsLabel(50),
  space: dnsLabel(40).optional(),
  /** The pool the workload runs on (absent: the VDC's primary pool), as on its deploy. */
  pool: dnsLabel(63).optional(),
  revision: z.number().int().min(1).optional(),
  reason: displayText({ max: 2000, min: 0, multiline: true }).optional(),
});
export type WorkloadRollbackRequest = z.infer<typeof WorkloadRollbackRequestSchema>;

/** A workload's volume as recorded (what the storage rules need to know about the VDC's existing volumes). */
export interface RecordedVolume {
  name: string;
  accessMode: AccessMode;
}

/** One revision of a workload as recorded in Mongo. */
export interface WorkloadRevision {
  revision: number;
  ticketId: string;
  spec: WorkloadSpec;
  at: string;
}

/** A workload of a VDC as recorded in Mongo after a successful rollout. */
export interface WorkloadRecord {
  vdcId: string;
  namespace: string;
  name: string;
  kind: WorkloadKind;
  revision: number;
  spec: WorkloadSpec;
  revisions: WorkloadRevision[];
  ticketId: string;
  updatedAt: string;
}

/** One object of the plan as the preview shows it. */
export interface PlannedObject {
  kind: string;
  name: string;
  /** `delete`: an object of the workload's previous revision the new spec no longer has (pruned after the rollout). */
  action: 'create' | 'update' | 'delete';
}

/** What the workload preflight found: the objects, the dry-run outcome, quota fit and the storage rules. */
export interface WorkloadPreview {
  hash: string;
  action: 'deploy' | 'rollback';
  namespace: string;
  workload: string;
  /** The revision this ticket makes, and the one it replaces (absent for a first deploy). */
  revision: number;
  previousRevision?: number;
  image: string[];
  objects: PlannedObject[];
  /** Requests the workload adds at its replica count: cpu cores, memory GiB, pods. */
  requests: { cpu: number; memoryGi: number; pods: number };
  /** Dry-run refusals, quota misfits and storage-rule violations; non-empty = the ticket fails at preflight. */
  errors: string[];
  /**
   * Fields of live objects another field manager changed, which applying (forced) would take back. Part of
   * the hash: an object edited out of band after approval changes the preview and sends the ticket back.
   */
  conflicts?: string[];
  /** Monthly cost delta under the price book in force (the storage of the volumes the workload owns). */
  cost?: CostPreview;
  checkedAt: string;
}

/** Names of the storage rules; every refusal message starts with `storage rule <name>:`. */
export const STORAGE_RULES = {
  rwoTwoWorkloads: 'rwo-single-workload',
  rwoReplicas: 'rwo-single-replica',
  rwoHpa: 'rwo-no-hpa',
  rwoRolling: 'rwo-no-rolling-update',
  duplicateVolume: 'unique-volume-name',
  volumeInUse: 'volume-in-use',
} as const;
export type StorageRule = (typeof STORAGE_RULES)[keyof typeof STORAGE_RULES];

/** Non-retryable failure types of the workload activities. */
export const WORKLOAD_ERRORS = {
  preflightRefused: 'WorkloadPreflightRefused',
  rolloutFailed: 'WorkloadRolloutFailed',
  revisionNotFound: 'WorkloadRevisionNotFound',
  volumeInUse: 'WorkloadVolumeInUse',
} as const;

/** Name of the rule that a privileged container needs an operations admin's approval (named in the approval step). */
export const PRIVILEGED_RULE = 'privileged-needs-ops-admin';

/** Labels Edgeport puts on every object of a workload. */
export const WORKLOAD_LABELS = {
  vdc: 'edgeport.io/vdc',
  ticket: 'edgeport.io/ticket',
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;
export const REVISION_ANNOTATION = 'edgeport.io/revision';
