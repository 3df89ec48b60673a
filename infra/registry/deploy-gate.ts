import type { CoreV1Api } from '@kubernetes/client-node';
import { repositoryOwner } from '../../common/images.ts';
import { NODE_JOIN_LABELS } from '../../common/node-join-workflow.ts';
import { tolerates, type WorkloadToleration } from '../../common/workload.ts';
import type { ImageScanStore } from '../../store/image-scans.ts';
import { RegistryNotFound, type RegistryDriver } from './driver.ts';
import { checkImageScan, parseImageRef } from './image-checks.ts';
import type { ImageDeployPolicy } from './image-settings.ts';

/**
 * The image rules of a workload deploy, checked at submit (API: scan, signature, external images) and again at
 * preflight (worker: the same plus the architectures of the nodes the workload may run on). Every refusal names
 * the container's image field (`workload.containers[i].image`) and the rule.
 */

/** Rule names a refusal carries (`image rule <name>: …`). */
export const IMAGE_RULES = {
  external: 'image-external',
  otherVdc: 'image-other-vdc',
  notFound: 'image-not-found',
  scan: 'image-scan',
  arch: 'image-arch',
  signature: 'image-signature-required',
} as const;

export interface ImageProblem {
  field: string;
  rule: (typeof IMAGE_RULES)[keyof typeof IMAGE_RULES];
  message: string;
}

export interface DeployGateDeps {
  driver: Pick<RegistryDriver, 'getImage' | 'signature'>;
  scans: Pick<ImageScanStore, 'latest'>;
  /** `host:port` of Edgeport's registry (as in its URL). */
  registryHost: string;
  policy: ImageDeployPolicy;
}

const NODE_POOL_LABEL = NODE_JOIN_LABELS.pool;
const NODE_VDC_LABEL = NODE_JOIN_LABELS.vdc;
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function sameHost(a: string, b: string): boolean {
  const split = (h: string): [string, string] => {
    const i = h.lastIndexOf(':');
    return i > 0 && !h.endsWith(']') ? [h.slice(0, i).toLowerCase(), h.slice(i + 1)] : [h.toLowerCase(), ''];
  };
  const [ha, pa] = split(a);
  const [hb, pb] = split(b);
  return pa === pb && (ha === hb || (LOOPBACK.has(ha) && LOOPBACK.has(hb)));
}

/** The registry host of an image reference (`null`: Docker Hub, no host given). */
export function imageHost(ref: string): string | null {
  const first = ref.trim().split('/')[0] ?? '';
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : null;
}

/** Whether an image reference points to Edgeport's registry. */
export const isEdgeportImage = (ref: string, registryHost: string): boolean => {
  const host = imageHost(ref);
  return host !== null && sameHost(host, registryHost);
};

/** What a workload's placement is judged by: its node selector and its tolerations. */
export interface NodePlacement {
  nodeSelector?: Readonly<Record<string, string>> | undefined;
  tolerations?: readonly WorkloadToleration[] | undefined;
}

/** A node a workload's pods may be scheduled on. */
export interface TargetNode {
  name: string;
  arch?: string;
  /** The VDC the node was joined for (`edgeport.io/vdc`), when it was joined through Edgeport. */
  vdc?: string;
  /** The node's NoSchedule / NoExecute taints, all tolerated by the workload (else it would not be a target). */
  tolerated: { key: string; value?: string; effect: string }[];
}

/**
 * Tolerations every pod gets from the DefaultTolerationSeconds admission plugin: a node that just went
 * not-ready or unreachable keeps its pods for 300 s, so those NoExecute taints do not take a node out.
 */
const DEFAULT_TOLERATIONS: readonly WorkloadToleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
];

/**
 * The nodes a workload's pods may be scheduled on, as the kube-scheduler's node filters see them: the nodes
 * of the pool's cluster (less those labelled for another pool registered on the same cluster,
 * `edgeport.io/pool`) whose labels match the `nodeSelector` and whose NoSchedule / NoExecute taints the
 * workload tolerates (a cordoned node counts as tainted `node.kubernetes.io/unschedulable:NoSchedule`).
 * PreferNoSchedule taints only lower a node's score, so they do not take it out.
 */
export async function workloadTargetNodes(core: Pick<CoreV1Api, 'listNode'>, pool: string | undefined, placement: NodePlacement): Promise<TargetNode[]> {
  const nodes = (await core.listNode({})).items;
  const tolerations = [...(placement.tolerations ?? []), ...DEFAULT_TOLERATIONS];
  const out: TargetNode[] = [];
  for (const n of nodes) {
    const labels = n.metadata?.labels ?? {};
    const nodePool = labels[NODE_POOL_LABEL];
    if (pool && nodePool && nodePool !== pool) continue;
    if (!Object.entries(placement.nodeSelector ?? {}).every(([k, v]) => labels[k] === v)) continue;
    const taints = (n.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect }));
    if (n.spec?.unschedulable && !taints.some((t) => t.key === UNSCHEDULABLE_TAINT && t.effect === 'NoSchedule'))
      taints.push({ key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' });
    const hard = taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    if (!hard.every((t) => tolerations.some((tol) => tolerates(tol, t)))) continue;
    const arch = labels['kubernetes.io/arch'] || n.status?.nodeInfo?.architecture;
    const vdc = labels[NODE_VDC_LABEL];
    out.push({
      name: n.metadata?.name ?? '',
      ...(arch ? { arch } : {}),
      ...(vdc ? { vdc } : {}),
      tolerated: hard.filter((t) => !DEFAULT_TOLERATIONS.some((d) => tolerates(d, t))),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The architectures of the nodes a workload may be scheduled on (see {@link workloadTargetNodes}). */
export async function workloadArchitectures(
  core: Pick<CoreV1Api, 'listNode'>,
  pool: string | undefined,
  nodeSelector: Record<string, string> | undefined,
  tolerations?: readonly WorkloadToleration[],
): Promise<string[]> {
  return archesOf(await workloadTargetNodes(core, pool, { nodeSelector, tolerations }));
}

/** The distinct architectures of some nodes, sorted. */
export const archesOf = (nodes: readonly TargetNode[]): string[] => [...new Set(nodes.flatMap((n) => (n.arch ? [n.arch] : [])))].sort();

/**
 * The placement problems of a workload on a pool's nodes: no node it may run on (its pods would stay
 * Pending), or a tolerated taint of a node joined for another VDC (its dedicated node). Messages name the
 * field; empty when fine.
 */
export function placementProblems(vdcId: string, pool: string, placement: NodePlacement, targets: readonly TargetNode[]): string[] {
  const out: string[] = [];
  if (targets.length === 0) {
    const selector = Object.entries(placement.nodeSelector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    out.push(
      `workload.nodeSelector: scheduling: no node of pool ${pool} ${selector ? `matches ${selector} and ` : ''}has only taints the workload tolerates (workload.tolerations); its pods would never be scheduled`,
    );
  }
  for (const n of targets) {
    if (n.vdc && n.vdc !== vdcId && n.tolerated.length > 0)
      out.push(
        `workload.tolerations: scheduling: the workload tolerates ${n.tolerated.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', ')} of node ${n.name}, an edge node joined for another VDC`,
      );
  }
  return out;
}

/**
 * Refusals for the images of a workload's containers. External images are refused only when the policy says
 * so (they are not scanned); an image of Edgeport's registry must be public or the VDC's own, exist, have a
 * last scan below the policy's severity, have every architecture of `arches` (when given) and, when the
 * policy requires it, a signature. Registry outages throw (the caller retries or answers 502).
 */
export async function imageDeployProblems(
  deps: DeployGateDeps,
  vdcId: string,
  containers: readonly { image: string }[],
  opts: { arches?: readonly string[]; fieldPrefix?: string } = {},
): Promise<ImageProblem[]> {
  const problems: ImageProblem[] = [];
  const prefix = opts.fieldPrefix ?? 'workload.containers';
  for (const [i, c] of containers.entries()) {
    const field = `${prefix}[${i}].image`;
    const add = (rule: ImageProblem['rule'], message: string) => problems.push({ field, rule, message: `${field}: image rule ${rule}: ${message}` });
    if (!isEdgeportImage(c.image, deps.registryHost)) {
      if (deps.policy.external === 'refuse')
        add(
          IMAGE_RULES.external,
          `${c.image} is not on Edgeport's registry (${deps.registryHost}); only scanned images of Edgeport's registry may be deployed`,
        );
      continue;
    }
    const { repository, reference } = parseImageRef(c.image);
    const owner = repositoryOwner(repository);
    if (owner.visibility === 'other' || ('vdcId' in owner && owner.vdcId !== vdcId)) {
      add(IMAGE_RULES.otherVdc, `${repository} is neither public nor this VDC's repository`);
      continue;
    }
    const gate = await checkImageScan(deps, c.image, deps.policy.blockSeverity);
    if (gate.digest === null) {
      add(IMAGE_RULES.notFound, `${repository}:${reference} does not exist`);
      continue;
    }
    if (!gate.allowed) add(IMAGE_RULES.scan, `${repository}@${gate.digest}: ${gate.reason}`);
    if (opts.arches && opts.arches.length > 0) {
      let have: string[];
      try {
        have = (await deps.driver.getImage(repository, gate.digest)).platforms.map((p) => p.architecture);
      } catch (err) {
        if (!(err instanceof RegistryNotFound)) throw err;
        have = [];
      }
      const missing = opts.arches.filter((a) => !have.includes(a));
      if (missing.length > 0)
        add(
          IMAGE_RULES.arch,
          `${repository}:${reference} has no ${missing.join(', ')} image (it has ${have.join(', ') || 'none'}) but the workload may run on ${opts.arches.join(', ')} nodes of the resource pool; push a multi-arch image or select nodes of its architecture (nodeSelector kubernetes.io/arch)`,
        );
    }
    if (deps.policy.requireSignature) {
      const sig = deps.driver.signature ? await deps.driver.signature(repository, gate.digest) : { signed: false };
      if (!sig.signed) add(IMAGE_RULES.signature, `${repository}@${gate.digest} is not signed (deploys require a signature: EDGEPORT_IMAGE_REQUIRE_SIGNATURE)`);
    }
  }
  return problems;
}
