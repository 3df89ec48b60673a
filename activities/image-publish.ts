import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ImagePublishPreview } from '../common/image-publish.ts';
import { findingsAtOrAbove, PUBLISH_BLOCKING_SEVERITY, scanGate, severityRank, type ImageScanView } from '../common/image-scan.ts';
import type { Store } from '../store/index.ts';
import { ensureHarborProject, harborOf, harborProjectSpec } from './harbor-provisioning.ts';
import { RegistryNotFound, RegistryRefused, splitRepository } from '../infra/registry/driver.ts';
import { harborScan } from '../infra/registry/harbor-scan.ts';
import type { AnyRegistryRuntime } from '../infra/registry/runtime.ts';
import { scanImageContent } from '../infra/registry/scanner.ts';

export interface ImageActivityDeps {
  store: Store;
  /** The local registry and scanner feed; absent when the worker has no registry configured. */
  registry?: AnyRegistryRuntime;
}

/** Failure type names of image activities (non-retryable business refusals). */
export const IMAGE_ERRORS = {
  notConfigured: 'RegistryNotConfigured',
  notFound: 'ImageNotFound',
  refused: 'RegistryRefused',
  verifyFailed: 'ImageVerifyFailed',
} as const;

const MAX_PREVIEW_FINDINGS = 50;

function runtimeOf(deps: ImageActivityDeps): AnyRegistryRuntime {
  if (!deps.registry) throw ApplicationFailure.nonRetryable('the worker has no image registry configured (EDGEPORT_REGISTRY_URL)', IMAGE_ERRORS.notConfigured);
  return deps.registry;
}

/** Registry refusals are business failures (non-retryable); 5xx and network errors stay retryable. */
function typed(err: unknown): unknown {
  if (err instanceof RegistryNotFound) return ApplicationFailure.nonRetryable(err.message, IMAGE_ERRORS.notFound);
  if (err instanceof RegistryRefused) return ApplicationFailure.nonRetryable(err.message, IMAGE_ERRORS.refused);
  return err;
}

/** Hash of what approvers decide on: the pinned digest, the target, the scan verdict and any override. */
export function publishPreviewHash(p: Omit<ImagePublishPreview, 'hash' | 'checkedAt'>): string {
  const canon = [
    p.source.repository,
    p.source.tag,
    p.source.digest,
    p.target.repository,
    p.target.tag,
    p.target.visibility,
    p.scan?.scannedAt ?? null,
    p.scan?.severity ?? null,
    p.blocking.map((f) => `${f.id}/${f.package}/${f.version}`),
    p.override?.reason ?? null,
    p.targetDigest,
    p.errors,
  ];
  return createHash('sha256').update(JSON.stringify(canon)).digest('hex').slice(0, 32);
}

export function createImageActivities(deps: ImageActivityDeps) {
  /**
   * Scans the image the reference points to now, stores the result (latest per digest) and returns it. With Harbor
   * it is Harbor's scan of the digest (one is triggered when Harbor has none; while it runs the activity fails
   * retryably), since the local scanner cannot read Harbor's blobs.
   */
  async function scanImage(args: { repository: string; reference: string }): Promise<ImageScanView> {
    const rt = runtimeOf(deps);
    const harbor = harborOf(rt);
    if (harbor) {
      try {
        const image = await rt.driver.getImage(args.repository, args.reference);
        const r = await harborScan(harbor.driver, args.repository, image, { trigger: true });
        // Still scanning: a plain error, so the activity is retried while Harbor finishes.
        if ('error' in r) throw new Error(r.error);
        await deps.store.imageScans.save(r.scan);
        return r.scan;
      } catch (err) {
        throw typed(err);
      }
    }
    if (!rt.feed)
      throw ApplicationFailure.nonRetryable(
        'no advisory feed configured (EDGEPORT_ADVISORY_FEED): images cannot be scanned locally',
        IMAGE_ERRORS.notConfigured,
      );
    const feed = rt.feed;
    try {
      const image = await rt.driver.getImage(args.repository, args.reference);
      const scan = await scanImageContent(image, (repo, digest) => rt.driver.readBlob(repo, digest), feed);
      await deps.store.imageScans.save(scan);
      return scan;
    } catch (err) {
      throw typed(err);
    }
  }

  return {
    scanImage,

    /** Deletes one tag (on the local registry: the manifest it points to, by digest). Gone already → done. */
    async deleteImageTag(args: { repository: string; tag: string }): Promise<void> {
      try {
        await runtimeOf(deps).driver.deleteTag(args.repository, args.tag);
      } catch (err) {
        throw typed(err);
      }
    },

    /** Deletes every tag of a repository. Gone already → done. */
    async deleteImageRepository(args: { repository: string }): Promise<void> {
      try {
        await runtimeOf(deps).driver.deleteRepository(args.repository);
      } catch (err) {
        throw typed(err);
      }
    },

    /**
     * Publish preflight: the staging image exists (its digest is pinned here), its scan (scanned now when the
     * digest has none), findings at or above High (blocking unless overridden), the target tag's current digest.
     * Problems go to `errors` (the ticket fails with them); registry outages throw (retried).
     */
    async preflightImagePublish(args: {
      source: { repository: string; tag: string };
      target: { repository: string; tag: string; visibility: 'private' | 'public' };
      scanOverride?: { reason: string };
    }): Promise<ImagePublishPreview> {
      const rt = runtimeOf(deps);
      const errors: string[] = [];
      let image: Awaited<ReturnType<typeof rt.driver.getImage>> | null = null;
      try {
        image = await rt.driver.getImage(args.source.repository, args.source.tag);
      } catch (err) {
        if (!(err instanceof RegistryNotFound)) throw typed(err);
        errors.push(`image ${args.source.repository}:${args.source.tag} does not exist; push it to the staging repository first`);
      }
      let scan: ImageScanView | null = null;
      const harbor = harborOf(rt);
      if (image && harbor) {
        try {
          const fromHarbor = await harborScan(harbor.driver, args.source.repository, image, { trigger: true });
          if ('error' in fromHarbor) errors.push(fromHarbor.error);
          else {
            scan = fromHarbor.scan;
            await deps.store.imageScans.save(scan);
          }
        } catch (err) {
          if (!(err instanceof RegistryNotFound)) throw typed(err);
          errors.push(`image ${args.source.repository}@${image.digest} disappeared from Harbor during preflight`);
        }
      } else if (image) {
        scan = await deps.store.imageScans.latest(image.digest);
        if (!scan) {
          if (rt.feed) scan = await scanImage({ repository: args.source.repository, reference: image.digest });
          else errors.push('the image has no scan result and no advisory feed is configured to scan it');
        }
      }
      const blocking = scan ? findingsAtOrAbove(scan, PUBLISH_BLOCKING_SEVERITY) : [];
      if (scan && blocking.length > 0 && !args.scanOverride) {
        const gate = scanGate(scan, PUBLISH_BLOCKING_SEVERITY);
        errors.push(`promotion blocked: ${gate.allowed ? '' : gate.reason}; an operations admin may submit the ticket again with scanOverride and a reason`);
      }
      let targetDigest: string | null = null;
      try {
        targetDigest = (await rt.driver.getImage(args.target.repository, args.target.tag)).digest;
      } catch (err) {
        if (!(err instanceof RegistryNotFound)) throw typed(err);
      }
      const body: Omit<ImagePublishPreview, 'hash' | 'checkedAt'> = {
        source: { repository: args.source.repository, tag: args.source.tag, digest: image?.digest ?? null },
        target: { ...args.target, pullRef: `${rt.host}/${args.target.repository}:${args.target.tag}` },
        image: image
          ? {
              size: image.size,
              multiArch: image.multiArch,
              platforms: image.platforms.map((p) => ({ os: p.os, architecture: p.architecture, digest: p.digest, size: p.size })),
            }
          : null,
        scan: scan
          ? { ...scan, findings: [...scan.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity)).slice(0, MAX_PREVIEW_FINDINGS) }
          : null,
        blocking,
        override: args.scanOverride ? { reason: args.scanOverride.reason } : null,
        targetDigest,
        errors,
      };
      return { ...body, hash: publishPreviewHash(body), checkedAt: new Date().toISOString() };
    },

    /**
     * Copies the pinned digest to the target tag (blobs mounted, manifests by digest, tag last) and checks the
     * tag now resolves to that digest. With Harbor the target project (`vdc-<id>` or `public`) is created first
     * when missing, with Edgeport's settings (an existing project is left alone). Idempotent: a retry finds
     * everything in place.
     */
    async promoteImage(args: {
      source: { repository: string; digest: string };
      target: { repository: string; tag: string };
    }): Promise<{ digest: string; size: number }> {
      const rt = runtimeOf(deps);
      try {
        const harbor = harborOf(rt);
        if (harbor)
          await ensureHarborProject(harbor.driver, harborProjectSpec(splitRepository(args.target.repository).namespace, rt, harbor.settings), {
            onlyIfMissing: true,
          });
        const copied = await rt.driver.copyImage(args.source, args.target);
        const check = await rt.driver.getImage(args.target.repository, args.target.tag);
        if (check.digest !== args.source.digest || copied.digest !== args.source.digest) {
          throw ApplicationFailure.nonRetryable(
            `${args.target.repository}:${args.target.tag} resolves to ${check.digest}, not ${args.source.digest}`,
            IMAGE_ERRORS.verifyFailed,
          );
        }
        return { digest: check.digest, size: check.size };
      } catch (err) {
        throw typed(err);
      }
    },
  };
}
