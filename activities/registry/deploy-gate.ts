import type { CoreV1Api } from '@kubernetes/client-node';
import { repositoryOwner } from '../../common/images.ts';
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

/**
 * The architectures of the nodes a workload may be scheduled on: the nodes of the VDC's resource pool
 * (`edgeport.io/pool=<pool>`; every node when none carries the label) that match its `nodeSelector`.
 */
export async function workloadArchitectures(core: Pick<CoreV1Api, 'listNode'>, pool: string | undefined, nodeSelector: Record<string, string> | undefined): Promise<string[]> {
  const nodes = (await core.listNode({})).items;
  const inPool = pool ? nodes.filter((n) => n.metadata?.labels?.['edgeport.io/pool'] === pool) : [];
  const candidates = (inPool.length > 0 ? inPool : nodes).filter((n) => Object.entries(nodeSelector ?? {}).every(([k, v]) => n.metadata?.labels?.[k] === v));
  const arches = new Set<string>();
  for (const n of candidates) {
    const a = n.metadata?.labels?.['kubernetes.io/arch'] || n.status?.nodeInfo?.architecture;
    if (a) arches.add(a);
  }
  return [...arches].sort();
}

/**
 * Refusals for the images of a workload's containers. External images are refused only when the policy says
 * so (they are not scanned); an image of Edgeport's registry must be public or the VDC's own, exist, have a
 * last scan below the policy's severity, have every architecture of `arches` (when given) and, when the
 * policy requires it, a signature. Registry outages throw (the caller retries or answers 502).
 */
export async function imageDeployProblems(deps: DeployGateDeps, vdcId: string, containers: readonly { image: string }[], opts: { arches?: readonly string[]; fieldPrefix?: string } = {}): Promise<ImageProblem[]> {
  const problems: ImageProblem[] = [];
  const prefix = opts.fieldPrefix ?? 'workload.containers';
  for (const [i, c] of containers.entries()) {
    const field = `${prefix}[${i}].image`;
    const add = (rule: ImageProblem['rule'], message: string) => problems.push({ field, rule, message: `${field}: image rule ${rule}: ${message}` });
    if (!isEdgeportImage(c.image, deps.registryHost)) {
      if (deps.policy.external === 'refuse') add(IMAGE_RULES.external, `${c.image} is not on Edgeport's registry (${deps.registryHost}); only scanned images of Edgeport's registry may be deployed`);
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
      if (missing.length > 0) add(IMAGE_RULES.arch, `${repository}:${reference} has no ${missing.join(', ')} image (it has ${have.join(', ') || 'none'}) but the workload may run on ${opts.arches.join(', ')} nodes of the resource pool; push a multi-arch image or set nodeSelector kubernetes.io/arch`);
    }
    if (deps.policy.requireSignature) {
      const sig = deps.driver.signature ? await deps.driver.signature(repository, gate.digest) : { signed: false };
      if (!sig.signed) add(IMAGE_RULES.signature, `${repository}@${gate.digest} is not signed (deploys require a signature: EDGEPORT_IMAGE_REQUIRE_SIGNATURE)`);
    }
  }
  return problems;
}
