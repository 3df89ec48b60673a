import { ROLES, type Role } from '../common/roles.ts';
import type { VdcSpace } from '../common/tickets.ts';
import {
  isOwnedVolume,
  ownedVolumeNames,
  podCount,
  PRIVILEGED_RULE,
  STORAGE_RULES,
  volumeBytes,
  type AccessMode,
  type StorageRule,
  type WorkloadSpec,
} from '../common/workload.ts';
import type { TicketDecision } from './types.ts';

/** Bumped whenever a rule below changes; stored on every ticket so a decision can be explained later. */
export const WORKLOAD_POLICY_VERSION = 'workload/2026-12-07.1';

/** A workload of the VDC as the storage rules see it: where it is and its current spec. */
export interface ExistingWorkload {
  namespace: string;
  name: string;
  spec: WorkloadSpec;
}

/** A standalone volume of the VDC (made with the volume API, not by a workload's deploy); mountable with `existing: true`. */
export interface StandaloneVolume {
  namespace: string;
  name: string;
  accessMode: AccessMode;
}

/** A storage-rule violation; `message` starts with `storage rule <rule>:` so every refusal names its rule. */
export interface StorageViolation {
  rule: StorageRule;
  field: string;
  message: string;
}

const violation = (rule: StorageRule, field: string, text: string): StorageViolation => ({ rule, field, message: `storage rule ${rule}: ${text}` });

/**
 * The seed's storage rules for deploying `spec` into `namespace`, given the VDC's other workloads. Pure;
 * the API runs it at submit over the workloads recorded in Mongo, preflight again over what the cluster
 * holds (see `activities/workload.ts`). Rules, in the order checked:
 * - `unique-volume-name`: a volume the spec creates (an owned volume or a StatefulSet claim template) may
 *   not share its name with one another workload of the VDC owns (volume or template, in any of its
 *   namespaces) or a standalone volume;
 * - `rwo-single-workload`: a ReadWriteOnce volume is mounted by one workload only;
 * - `rwo-single-replica` / `rwo-no-hpa` / `rwo-no-rolling-update`: a workload mounting a ReadWriteOnce
 *   volume runs exactly one replica, without an HPA, and (a Deployment) with the Recreate strategy, since a
 *   rolling update starts the new pod while the old one still holds the volume.
 * - `volume-in-use`: an upgrade (or rollback) that drops a volume the workload owns deletes its claim, so
 *   no other workload of the namespace may still mount it.
 * A mount of an `existing` volume no workload of the namespace owns and no standalone volume (`volumes`,
 * made with the volume API) of the namespace is, is reported as `unique-volume-name`'s sibling problem
 * (missing volume) under the same field; a standalone ReadWriteOnce volume counts for the RWO rules.
 */
export function storageViolations(
  spec: WorkloadSpec,
  namespace: string,
  existing: readonly ExistingWorkload[],
  volumes: readonly StandaloneVolume[] = [],
): StorageViolation[] {
  const others = existing.filter((w) => !(w.namespace === namespace && w.name === spec.name));
  const out: StorageViolation[] = [];
  const rwo: string[] = [];
  (spec.volumes ?? []).forEach((v, i) => {
    const field = `workload.volumes.${i}.name`;
    if (isOwnedVolume(v)) {
      const standalone = volumes.find((s) => s.name === v.name);
      if (standalone) {
        out.push(violation(STORAGE_RULES.duplicateVolume, field, `volume ${v.name} already exists in this VDC (standalone volume in ${standalone.namespace})`));
        return;
      }
      const owner = others.find((w) => ownedVolumeNames(w.spec).includes(v.name));
      if (owner) {
        out.push(violation(STORAGE_RULES.duplicateVolume, field, `volume ${v.name} already exists in this VDC (workload ${owner.name} in ${owner.namespace})`));
        return;
      }
      const mounter = others.find((w) => w.namespace === namespace && (w.spec.volumes ?? []).some((o) => !isOwnedVolume(o) && o.name === v.name));
      if (v.accessMode === 'ReadWriteOnce' && mounter) {
        out.push(violation(STORAGE_RULES.rwoTwoWorkloads, field, `ReadWriteOnce volume ${v.name} is already mounted by workload ${mounter.name}`));
      }
      if (v.accessMode === 'ReadWriteOnce') rwo.push(v.name);
      return;
    }
    const owner = others.find((w) => w.namespace === namespace && (w.spec.volumes ?? []).some((o) => isOwnedVolume(o) && o.name === v.name));
    const standalone = owner ? undefined : volumes.find((s) => s.namespace === namespace && s.name === v.name);
    if (standalone) {
      const mounter = others.find((w) => w.namespace === namespace && (w.spec.volumes ?? []).some((o) => !isOwnedVolume(o) && o.name === v.name));
      if (standalone.accessMode === 'ReadWriteOnce') {
        if (mounter) out.push(violation(STORAGE_RULES.rwoTwoWorkloads, field, `ReadWriteOnce volume ${v.name} is already mounted by workload ${mounter.name}`));
        rwo.push(v.name);
      }
      return;
    }
    if (!owner) {
      out.push(violation(STORAGE_RULES.duplicateVolume, field, `no volume ${v.name} in namespace ${namespace} to mount`));
      return;
    }
    const owned = (owner.spec.volumes ?? []).find((o) => o.name === v.name);
    if (owned && isOwnedVolume(owned) && owned.accessMode === 'ReadWriteOnce') {
      out.push(violation(STORAGE_RULES.rwoTwoWorkloads, field, `ReadWriteOnce volume ${v.name} is already mounted by workload ${owner.name}`));
      rwo.push(v.name);
    }
  });
  (spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    const field = `workload.volumeClaimTemplates.${i}.name`;
    const standalone = volumes.find((s) => s.name === t.name);
    const owner = standalone ? undefined : others.find((w) => ownedVolumeNames(w.spec).includes(t.name));
    if (standalone)
      out.push(violation(STORAGE_RULES.duplicateVolume, field, `volume ${t.name} already exists in this VDC (standalone volume in ${standalone.namespace})`));
    else if (owner)
      out.push(violation(STORAGE_RULES.duplicateVolume, field, `volume ${t.name} already exists in this VDC (workload ${owner.name} in ${owner.namespace})`));
  });
  const current = existing.find((w) => w.namespace === namespace && w.name === spec.name);
  const kept = new Set((spec.volumes ?? []).map((v) => v.name));
  for (const dropped of (current?.spec.volumes ?? []).filter((v) => isOwnedVolume(v) && !kept.has(v.name))) {
    const user = others.find((w) => w.namespace === namespace && (w.spec.volumes ?? []).some((o) => !isOwnedVolume(o) && o.name === dropped.name));
    if (user)
      out.push(violation(STORAGE_RULES.volumeInUse, 'workload.volumes', `volume ${dropped.name} is mounted by workload ${user.name} and cannot be deleted`));
  }
  if (rwo.length > 0) {
    const names = rwo.join(', ');
    const replicas = podCount(spec);
    if (replicas > 1)
      out.push(violation(STORAGE_RULES.rwoReplicas, 'workload.replicas', `a workload mounting ReadWriteOnce volume ${names} cannot run ${replicas} replicas`));
    if (spec.hpa) out.push(violation(STORAGE_RULES.rwoHpa, 'workload.hpa', `a workload mounting ReadWriteOnce volume ${names} cannot have an HPA`));
    if (spec.kind === 'Deployment' && (spec.strategy ?? 'RollingUpdate') === 'RollingUpdate') {
      out.push(
        violation(
          STORAGE_RULES.rwoRolling,
          'workload.strategy',
          `a Deployment mounting ReadWriteOnce volume ${names} must use the Recreate strategy, not a rolling update`,
        ),
      );
    }
  }
  return out;
}

/**
 * What an upgrade may change about the volumes the workload keeps: a claim can only grow (PVC expansion;
 * the StorageClass must allow it, which the dry-run checks); its access mode and storage class are fixed.
 * Pure; returns the problems with the field each names.
 */
export function volumeChangeProblems(spec: WorkloadSpec, current: WorkloadSpec | undefined): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  // The kube-apiserver refuses any change to a StatefulSet's claim templates; say so naming the field.
  if (current && current.kind === 'StatefulSet' && JSON.stringify(spec.volumeClaimTemplates ?? []) !== JSON.stringify(current.volumeClaimTemplates ?? [])) {
    out.push({
      field: 'workload.volumeClaimTemplates',
      message: `the volume claim templates of StatefulSet ${spec.name} cannot change after it was created (workload.volumeClaimTemplates)`,
    });
  }
  (spec.volumes ?? []).forEach((v, i) => {
    const before = current?.volumes?.find((o) => o.name === v.name);
    if (!isOwnedVolume(v) || !before || !isOwnedVolume(before)) return;
    if (volumeBytes(v.size) < volumeBytes(before.size))
      out.push({
        field: `workload.volumes.${i}.size`,
        message: `volume ${v.name} cannot shrink from ${before.size} to ${v.size} (workload.volumes.${i}.size): a volume can only grow`,
      });
    if (v.accessMode !== before.accessMode)
      out.push({
        field: `workload.volumes.${i}.accessMode`,
        message: `volume ${v.name} keeps its access mode ${before.accessMode} (workload.volumes.${i}.accessMode)`,
      });
    if ((v.storageClass ?? '') !== (before.storageClass ?? ''))
      out.push({
        field: `workload.volumes.${i}.storageClass`,
        message: `volume ${v.name} keeps its storage class ${before.storageClass ?? '(default)'} (workload.volumes.${i}.storageClass)`,
      });
  });
  return out;
}

/**
 * The storage rules for a standalone volume made with the volume API. Pure. `unique-volume-name`: no
 * workload of the VDC owns a volume of that name and no standalone one has it (in any namespace).
 */
export function volumeCreateViolations(name: string, existing: readonly ExistingWorkload[], volumes: readonly StandaloneVolume[]): StorageViolation[] {
  const standalone = volumes.find((s) => s.name === name);
  if (standalone)
    return [violation(STORAGE_RULES.duplicateVolume, 'name', `volume ${name} already exists in this VDC (standalone volume in ${standalone.namespace})`)];
  const owner = existing.find((w) => ownedVolumeNames(w.spec).includes(name));
  if (owner)
    return [violation(STORAGE_RULES.duplicateVolume, 'name', `volume ${name} already exists in this VDC (workload ${owner.name} in ${owner.namespace})`)];
  return [];
}

/**
 * `volume-in-use` for deleting a standalone volume, over the recorded workloads: any workload of its
 * namespace mounting it (`existing: true`) keeps it. The volume activity checks the live cluster again.
 */
export function volumeDeleteViolations(name: string, namespace: string, existing: readonly ExistingWorkload[]): StorageViolation[] {
  const users = existing
    .filter((w) => w.namespace === namespace && (w.spec.volumes ?? []).some((o) => !isOwnedVolume(o) && o.name === name))
    .map((w) => `workload ${w.name}`);
  return users.length ? [violation(STORAGE_RULES.volumeInUse, 'name', `volume ${name} is mounted by ${users.join(', ')} and cannot be deleted`)] : [];
}

/** A volume can only grow: the problem with resizing from `before` to `after`, if any. */
export function volumeResizeProblem(name: string, before: string, after: string): string | undefined {
  if (volumeBytes(after) > volumeBytes(before)) return undefined;
  return volumeBytes(after) === volumeBytes(before)
    ? `volume ${name} is already ${before}`
    : `volume ${name} cannot shrink from ${before} to ${after}: a volume can only grow`;
}

/** Whether any container of the spec asks for privileged mode. */
export const isPrivileged = (spec: WorkloadSpec): boolean => spec.containers.some((c) => c.securityContext?.privileged === true);

export interface WorkloadDeployPolicyInput {
  spec: WorkloadSpec;
  /** The target namespace: the space's, or the VDC's default one. */
  namespace: string;
  /** The spaces recorded on the VDC now. */
  spaces: readonly Pick<VdcSpace, 'name' | 'status'>[];
  /** The VDC's workloads as recorded in Mongo. */
  workloads: readonly ExistingWorkload[];
  /** The VDC's standalone volumes (volume API), mountable with `existing: true`. */
  volumes?: readonly StandaloneVolume[];
  requesterRoles: readonly Role[];
  /** The VDC's pools, primary first (when known): `spec.pool` must be one of them. */
  pools?: readonly string[];
  /** The pool each space lives on (absent: the primary pool). */
  spacePools?: Readonly<Record<string, string>>;
}

/**
 * Where a workload may go: `pool` must be one of the VDC's pools, and with a space the space's pool (spaces
 * live on the pool they were made on, the primary one unless recorded otherwise). Pure.
 */
export function workloadPoolProblem(
  pool: string | undefined,
  space: string | undefined,
  vdc: { pools?: readonly string[]; spacePools?: Readonly<Record<string, string>> },
): string | undefined {
  if (pool === undefined || !vdc.pools?.length) return undefined;
  if (!vdc.pools.includes(pool)) return `pool ${pool} is not one of this VDC's resource pools (${vdc.pools.join(', ')})`;
  const spacePool = space === undefined ? undefined : (vdc.spacePools?.[space] ?? vdc.pools[0]);
  if (spacePool !== undefined && spacePool !== pool) return `application space ${space} lives on pool ${spacePool}, not ${pool}`;
  return undefined;
}

const vdcAdminStep = { step: 0, role: ROLES.vdcAdmin, label: 'VDC admin' };
const opsAdminStep = { step: 1, role: ROLES.opsAdmin, label: `Operations admin (rule ${PRIVILEGED_RULE}: privileged container)` };

/**
 * Decides how a workload is deployed or upgraded. Pure.
 * - the space is not an active space of the VDC → deny (`workload.space`);
 * - any storage rule is violated → deny with the first violation, naming the rule;
 * - an upgrade changes the kind, shrinks a volume or changes its access mode / storage class → deny naming the field;
 * - otherwise a VDC admin approves; a privileged container adds an operations admin step after it.
 */
export function decideWorkloadDeploy({ spec, namespace, spaces, workloads, volumes = [], pools, spacePools }: WorkloadDeployPolicyInput): TicketDecision {
  if (spec.space !== undefined && !spaces.some((s) => s.name === spec.space && s.status === 'active')) {
    return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: `no active application space ${spec.space} in this VDC`, field: 'workload.space' };
  }
  const poolProblem = workloadPoolProblem(spec.pool, spec.space, { ...(pools ? { pools } : {}), ...(spacePools ? { spacePools } : {}) });
  if (poolProblem) return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: poolProblem, field: 'workload.pool' };
  const [first] = storageViolations(spec, namespace, workloads, volumes);
  if (first) return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: first.message, field: first.field };
  const current = workloads.find((w) => w.namespace === namespace && w.name === spec.name);
  if (current && current.spec.kind !== spec.kind)
    return {
      version: WORKLOAD_POLICY_VERSION,
      outcome: 'deny',
      reason: `workload ${spec.name} is a ${current.spec.kind}; its kind cannot change`,
      field: 'workload.kind',
    };
  const [change] = volumeChangeProblems(spec, current?.spec);
  if (change) return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: change.message, field: change.field };
  const upgrade = current !== undefined;
  const verb = upgrade ? 'upgrade' : 'deploy';
  if (isPrivileged(spec)) {
    return { version: WORKLOAD_POLICY_VERSION, outcome: 'approval', reason: `${verb} with a privileged container`, chain: [vdcAdminStep, opsAdminStep] };
  }
  return { version: WORKLOAD_POLICY_VERSION, outcome: 'approval', reason: `workload ${verb}`, chain: [vdcAdminStep] };
}

export interface WorkloadRollbackPolicyInput {
  name: string;
  namespace: string;
  revision?: number;
  workloads: readonly (ExistingWorkload & { revision: number; revisions: readonly { revision: number; spec: WorkloadSpec }[] })[];
  volumes?: readonly StandaloneVolume[];
}

/**
 * Decides a rollback. Pure. The workload must be recorded and the target revision (default: the one before
 * the current) must exist and differ from the current; the target spec is checked against the storage
 * rules again (others may have taken its volumes since). A privileged target needs an operations admin too.
 */
export function decideWorkloadRollback({ name, namespace, revision, workloads, volumes = [] }: WorkloadRollbackPolicyInput): TicketDecision {
  const w = workloads.find((x) => x.namespace === namespace && x.name === name);
  if (!w) return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: `no workload ${name} in ${namespace}`, field: 'name' };
  const target = revision ?? Math.max(0, ...w.revisions.filter((r) => r.revision < w.revision).map((r) => r.revision));
  const rev = w.revisions.find((r) => r.revision === target);
  if (!rev)
    return {
      version: WORKLOAD_POLICY_VERSION,
      outcome: 'deny',
      reason: revision ? `workload ${name} has no revision ${revision}` : `workload ${name} has no previous revision`,
      field: 'revision',
    };
  if (target === w.revision)
    return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: `revision ${target} is already the current one`, field: 'revision' };
  const [first] = storageViolations(rev.spec, namespace, workloads, volumes);
  if (first) return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: first.message, field: 'revision' };
  const [change] = volumeChangeProblems(rev.spec, w.spec);
  if (change) return { version: WORKLOAD_POLICY_VERSION, outcome: 'deny', reason: change.message, field: 'revision' };
  const chain = isPrivileged(rev.spec) ? [vdcAdminStep, opsAdminStep] : [vdcAdminStep];
  return { version: WORKLOAD_POLICY_VERSION, outcome: 'approval', reason: `rollback of ${name} to revision ${target}`, chain };
}
