import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { RegistryNotFound, type ImageDetail, type RegistryDriver } from '../../infra/registry/driver.ts';
import type { HarborDriver } from '../../infra/registry/harbor-driver.ts';
import { harborScan } from '../../infra/registry/harbor-scan.ts';
import { repositoryOwner } from '../../common/images.ts';
import type { ImageScanView } from '../../common/image-scan.ts';
import { IMAGE_OPERATION_WORKFLOW, type ImageOperation, type ImageOperationResult } from '../../common/image-ops-workflow.ts';
import type { ImageScanStore } from '../../store/image-scans.ts';
import type { VdcStore } from '../../store/vdcs.ts';
import type { AuditInput } from '../../common/audit.ts';
import { allows } from '../authz.ts';
import { HttpError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';
import { apiRegistryDriver } from './image-gate.ts';
import { isOpsAdmin, RegistryUnavailableError, type RegistryConfig, type RegistryService } from './registry.ts';

export interface ImageServiceDeps {
  /** The local registry's settings; with `driver` (Harbor) only `url` is needed (no token signing here). */
  config: Pick<RegistryConfig, 'url'> & Partial<RegistryConfig>;
  /** Reads through this driver (Harbor, `EDGEPORT_REGISTRY_DRIVER=harbor`) instead of the local registry. */
  driver?: RegistryDriver;
  registry: Pick<RegistryService, 'mayPull'>;
  vdcs: Pick<VdcStore, 'get'>;
  scans: Pick<ImageScanStore, 'latest'>;
  temporal: Client;
  taskQueue: string;
  audit: { append(entry: AuditInput): Promise<unknown> };
  /** How long an on-demand scan or a delete may take before the API answers 504 (the workflow goes on). */
  timeoutMs?: number;
}

/** Image detail as the API returns it: digest, size, architectures, layers, tags, pull reference and last scan. */
export interface ImageDetailView extends ImageDetail {
  pullRef: string;
  scan: ImageScanView | null;
}

/** The local registry read with pull-only tokens the API signs itself (the same driver as the deploy gate's). */
function localReader(config: ImageServiceDeps['config']): RegistryDriver {
  if (!config.tokenKeyFile || !config.tokenCertFile) throw new Error('the local registry needs EDGEPORT_REGISTRY_TOKEN_KEY_FILE and _TOKEN_CERT_FILE');
  return apiRegistryDriver({ ...config, tokenKeyFile: config.tokenKeyFile, tokenCertFile: config.tokenCertFile });
}

/**
 * Image detail (read from the registry like the listing; with Harbor its scan is Harbor's finished scan of the
 * digest, else the last stored one), and the operations that change the registry —
 * on-demand scan, tag and repository deletion — run by the worker as a short workflow (the API does not write
 * to the registry). Callers see only repositories they may pull (404 otherwise); deleting needs an operations
 * admin, or `ticket:decide` on the repository's VDC (its admins); public repositories only operations admins.
 */
export function imageService(deps: ImageServiceDeps) {
  const driver = deps.driver ?? localReader(deps.config);
  const harbor = driver.kind === 'harbor' && 'scanFindings' in driver ? (driver as RegistryDriver & HarborDriver) : null;
  const host = new URL(deps.config.url).host;

  /** With Harbor: its own finished scan of the digest (read only, never triggered here); null when it has none. */
  async function harborScanOf(repository: string, image: ImageDetail): Promise<ImageScanView | null> {
    if (!harbor) return null;
    try {
      const r = await harborScan(harbor, repository, image, { trigger: false });
      return 'scan' in r ? r.scan : null;
    } catch (err) {
      if (err instanceof RegistryNotFound) return null;
      throw new RegistryUnavailableError(err);
    }
  }

  async function visible(caller: Caller, repository: string): Promise<void> {
    if (!(await deps.registry.mayPull(caller, repository))) throw new NotFoundError('no such image');
  }

  async function mayManage(caller: Caller, repository: string): Promise<boolean> {
    if (isOpsAdmin(caller.grants)) return true;
    const owner = repositoryOwner(repository);
    if (owner.visibility !== 'private' && owner.visibility !== 'staging') return false;
    const vdc = await deps.vdcs.get(owner.vdcId);
    return !!vdc && allows(caller.grants, 'ticket:decide', { kind: 'vdc', vdcId: owner.vdcId, domainId: vdc.domainId });
  }

  async function run(op: ImageOperation): Promise<ImageOperationResult> {
    try {
      return await deps.temporal.workflow.execute(IMAGE_OPERATION_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId: `image-${op.op}-${randomBytes(6).toString('hex')}`,
        args: [op],
        workflowExecutionTimeout: deps.timeoutMs ?? 120_000,
      });
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
      if (cause instanceof ApplicationFailure && cause.type === 'ImageNotFound') throw new NotFoundError('no such image');
      if (cause instanceof ApplicationFailure && cause.nonRetryable) throw new HttpError(502, 'Bad Gateway', cause.message);
      if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure)
        throw new HttpError(504, 'Gateway Timeout', `image ${op.op}: no answer in time`);
      throw new RegistryUnavailableError(err);
    }
  }

  async function deleting(caller: Caller, repository: string, op: ImageOperation, meta: { ip?: string }): Promise<void> {
    await visible(caller, repository);
    if (!(await mayManage(caller, repository))) throw new NotFoundError('no such image you may delete');
    const target = op.op === 'delete-tag' ? `image:${repository}:${op.tag}` : `image:${repository}`;
    try {
      await run(op);
      await deps.audit.append({ actor: { sub: caller.sub, name: caller.name }, action: `image.${op.op}`, target, outcome: 'success', ...meta });
    } catch (err) {
      await deps.audit.append({
        actor: { sub: caller.sub, name: caller.name },
        action: `image.${op.op}`,
        target,
        outcome: 'failure',
        details: { reason: err instanceof Error ? err.message : String(err) },
        ...meta,
      });
      throw err;
    }
  }

  return {
    /**
     * One image by tag or digest: digest, size, every platform's architecture and layers, tags, pull reference, last scan.
     * @throws NotFoundError when it does not exist or the caller may not pull it.
     */
    async detail(caller: Caller, repository: string, reference: string): Promise<ImageDetailView> {
      await visible(caller, repository);
      let image: ImageDetail;
      try {
        image = await driver.getImage(repository, reference);
      } catch (err) {
        if (err instanceof RegistryNotFound) throw new NotFoundError('no such image');
        throw new RegistryUnavailableError(err);
      }
      return {
        ...image,
        pullRef: `${host}/${repository}@${image.digest}`,
        scan: (await harborScanOf(repository, image)) ?? (await deps.scans.latest(image.digest)),
      };
    },

    /** Scans the image now (worker: reads its layers, matches the advisory feed), stores and returns the result. */
    async scan(caller: Caller, repository: string, reference: string): Promise<ImageScanView> {
      await visible(caller, repository);
      const result = await run({ op: 'scan', repository, reference });
      if (result.op !== 'scan') throw new Error('unexpected result');
      return result.scan;
    },

    deleteTag: (caller: Caller, repository: string, tag: string, meta: { ip?: string } = {}) =>
      deleting(caller, repository, { op: 'delete-tag', repository, tag }, meta),
    deleteRepository: (caller: Caller, repository: string, meta: { ip?: string } = {}) =>
      deleting(caller, repository, { op: 'delete-repository', repository }, meta),
  };
}

export type ImageService = ReturnType<typeof imageService>;
