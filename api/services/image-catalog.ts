import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { isCosignArtifactTag } from '../../infra/registry/driver.ts';
import { MEDIA_TYPES } from '../../infra/registry/distribution.ts';
import type { AuditInput } from '../../common/audit.ts';
import { IMAGE_OPERATION_WORKFLOW, type ImageOperation } from '../../common/image-ops-workflow.ts';
import { repositoryOwner } from '../../common/images.ts';
import { DuplicateCategoryError, type ImageCategoryStore, type ImageCategoryView } from '../../store/image-categories.ts';
import type { VdcStore } from '../../store/vdcs.ts';
import { allows, vdcsWith } from '../authz.ts';
import { ConflictError, ForbiddenError, InputError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';
import { isOpsAdmin, type RegistryService } from './registry.ts';

export interface ImageCatalogDeps {
  categories: ImageCategoryStore;
  registry: Pick<RegistryService, 'mayPull'>;
  vdcs: Pick<VdcStore, 'get' | 'list'>;
  audit: { append(entry: AuditInput): Promise<unknown> };
}

const actorOf = (c: Caller) => ({ sub: c.sub, name: c.name });

/**
 * Browsing categories of image repositories. Platform categories (`vdcId: null`) are seen by everyone and
 * managed by operations admins; a VDC's categories are seen by its members and managed by its admins
 * (`ticket:decide` there) and operations admins. A repository is put into categories by whoever may manage
 * it (operations admins; a VDC's admins for its private and staging repositories); a VDC category holds only
 * that VDC's repositories. Listings show only repositories the caller may pull. Every change is audited.
 */
export function imageCatalogService(deps: ImageCatalogDeps) {
  async function vdcTarget(vdcId: string) {
    const v = await deps.vdcs.get(vdcId);
    return v ? ({ kind: 'vdc', vdcId, domainId: v.domainId } as const) : null;
  }

  /** May the caller see (`read`) or change (`manage`) categories of this scope? */
  async function may(caller: Caller, vdcId: string | null, what: 'read' | 'manage'): Promise<boolean> {
    if (isOpsAdmin(caller.grants)) return true;
    if (vdcId === null) return what === 'read';
    const t = await vdcTarget(vdcId);
    return !!t && allows(caller.grants, what === 'read' ? 'vdc:read' : 'ticket:decide', t);
  }

  async function visibleCategory(caller: Caller, id: string): Promise<ImageCategoryView> {
    const c = await deps.categories.get(id);
    if (!c || !(await may(caller, c.vdcId, 'read'))) throw new NotFoundError('no such category');
    return c;
  }

  async function managedCategory(caller: Caller, id: string): Promise<ImageCategoryView> {
    const c = await visibleCategory(caller, id);
    if (!(await may(caller, c.vdcId, 'manage')))
      throw new ForbiddenError(c.vdcId === null ? 'only operations admins manage platform categories' : `only admins of VDC ${c.vdcId} manage its categories`);
    return c;
  }

  async function mayManageRepository(caller: Caller, repository: string): Promise<boolean> {
    if (isOpsAdmin(caller.grants)) return true;
    const owner = repositoryOwner(repository);
    return (owner.visibility === 'private' || owner.visibility === 'staging') && (await may(caller, owner.vdcId, 'manage'));
  }

  const conflict = (err: unknown): never => {
    if (err instanceof DuplicateCategoryError) throw new ConflictError('a category of that name exists in this scope');
    throw err;
  };

  return {
    /** Categories the caller sees (platform ones and their VDCs'; `vdcId`: platform ones and that VDC's), repositories cut to what they may pull. */
    async list(caller: Caller, opts: { vdcId?: string }): Promise<ImageCategoryView[]> {
      let vdcIds: string[] | 'all';
      if (opts.vdcId !== undefined) {
        if (!(await may(caller, opts.vdcId, 'read'))) throw new NotFoundError('no such VDC');
        vdcIds = [opts.vdcId];
      } else {
        const all = (await deps.vdcs.list('all')).map((v) => ({ id: v._id, domainId: v.domainId }));
        vdcIds = isOpsAdmin(caller.grants) ? 'all' : vdcsWith(caller.grants, 'vdc:read', all);
      }
      const out: ImageCategoryView[] = [];
      for (const c of await deps.categories.list(vdcIds)) {
        const repositories: string[] = [];
        for (const r of c.repositories) if (await deps.registry.mayPull(caller, r)) repositories.push(r);
        out.push({ ...c, repositories });
      }
      return out;
    },

    async create(caller: Caller, body: { name: string; vdcId?: string | undefined }, meta: { ip?: string } = {}): Promise<ImageCategoryView> {
      const vdcId = body.vdcId ?? null;
      if (vdcId !== null && !(await may(caller, vdcId, 'read'))) throw new InputError(`no VDC ${vdcId}`, [{ field: 'vdcId', message: 'unknown VDC' }]);
      if (!(await may(caller, vdcId, 'manage')))
        throw new ForbiddenError(vdcId === null ? 'only operations admins create platform categories' : `only admins of VDC ${vdcId} create its categories`);
      const c = await deps.categories.create({ id: `cat-${randomBytes(6).toString('hex')}`, name: body.name, vdcId }).catch(conflict);
      await deps.audit.append({
        actor: actorOf(caller),
        action: 'image.category.create',
        target: `image-category:${c.id}`,
        outcome: 'success',
        details: { name: c.name, vdcId },
        ...meta,
      });
      return c;
    },

    async rename(caller: Caller, id: string, name: string, meta: { ip?: string } = {}): Promise<ImageCategoryView> {
      const before = await managedCategory(caller, id);
      const c = await deps.categories.rename(id, name).catch(conflict);
      if (!c) throw new NotFoundError('no such category');
      await deps.audit.append({
        actor: actorOf(caller),
        action: 'image.category.rename',
        target: `image-category:${id}`,
        outcome: 'success',
        details: { from: before.name, to: name },
        ...meta,
      });
      return c;
    },

    async remove(caller: Caller, id: string, meta: { ip?: string } = {}): Promise<void> {
      const c = await managedCategory(caller, id);
      await deps.categories.remove(id);
      await deps.audit.append({
        actor: actorOf(caller),
        action: 'image.category.delete',
        target: `image-category:${id}`,
        outcome: 'success',
        details: { name: c.name },
        ...meta,
      });
    },

    /**
     * Puts a repository into exactly `categoryIds` (among the categories the caller may change); its membership
     * in categories the caller may not change stays. Returns the repository's categories the caller sees.
     */
    async setRepositoryCategories(
      caller: Caller,
      repository: string,
      categoryIds: readonly string[],
      meta: { ip?: string } = {},
    ): Promise<ImageCategoryView[]> {
      if (!(await deps.registry.mayPull(caller, repository)) || !(await mayManageRepository(caller, repository)))
        throw new NotFoundError('no such repository you may manage');
      const owner = repositoryOwner(repository);
      for (const [i, id] of categoryIds.entries()) {
        const c = await deps.categories.get(id);
        if (!c || !(await may(caller, c.vdcId, 'read')))
          throw new InputError('unknown category', [{ field: `categoryIds[${i}]`, message: 'unknown category' }]);
        if (c.vdcId !== null && !('vdcId' in owner && owner.vdcId === c.vdcId))
          throw new InputError(`category ${c.name} holds only VDC ${c.vdcId}'s repositories`, [
            { field: `categoryIds[${i}]`, message: "another VDC's category" },
          ]);
      }
      const current = await deps.categories.ofRepository(repository);
      const within: string[] = [...categoryIds];
      for (const c of current) if (await may(caller, c.vdcId, 'manage')) within.push(c.id);
      const before = current.map((c) => c.id).sort();
      await deps.categories.setRepositoryCategories(repository, categoryIds, within);
      const after = await deps.categories.ofRepository(repository);
      await deps.audit.append({
        actor: actorOf(caller),
        action: 'image.repository.categories',
        target: `image:${repository}`,
        outcome: 'success',
        details: { from: before, to: after.map((c) => c.id).sort() },
        ...meta,
      });
      const visible: ImageCategoryView[] = [];
      for (const c of after) if (await may(caller, c.vdcId, 'read')) visible.push(c);
      return visible;
    },
  };
}
export type ImageCatalogService = ReturnType<typeof imageCatalogService>;

/** Header carrying the shared secret of the registry's notification endpoint. */
export const REGISTRY_NOTIFY_HEADER = 'x-edgeport-registry-secret';

interface RegistryEvent {
  action?: string;
  target?: { mediaType?: string; digest?: string; repository?: string; tag?: string };
}

const MANIFEST_TYPES = new Set<string>(Object.values(MEDIA_TYPES));

/**
 * The endpoint of the registry's push notifications (distribution `notifications.endpoints`): authenticated by
 * a shared secret header, it starts a scan of every pushed tagged manifest or index (by digest; cosign
 * signature tags are not images). One scan workflow per repository and digest (a repeated event is a no-op).
 * Answers 401 without the secret; 202 once the scans are started (the registry retries on failure).
 */
export function registryNotificationHandler(deps: {
  secret: string;
  temporal: Client;
  taskQueue: string;
  log?: (msg: string, extra: Record<string, unknown>) => void;
}): RequestHandler {
  const expected = createHash('sha256').update(deps.secret).digest();
  return async (req, res, next) => {
    try {
      const given = createHash('sha256')
        .update(req.get(REGISTRY_NOTIFY_HEADER) ?? '')
        .digest();
      if (!timingSafeEqual(given, expected)) {
        res
          .status(401)
          .type('application/problem+json')
          .json({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'missing or wrong registry notification secret' });
        return;
      }
      const events = ((req.body as { events?: RegistryEvent[] } | undefined)?.events ?? []).filter(
        (e) =>
          e.action === 'push' &&
          e.target?.repository &&
          e.target.digest &&
          e.target.tag &&
          MANIFEST_TYPES.has(e.target.mediaType ?? '') &&
          !isCosignArtifactTag(e.target.tag),
      );
      let started = 0;
      for (const e of events) {
        const op: ImageOperation = { op: 'scan', repository: e.target!.repository!, reference: e.target!.digest! };
        const id = `image-scan-push-${createHash('sha256').update(`${op.repository}@${op.reference}`).digest('hex').slice(0, 24)}`;
        try {
          await deps.temporal.workflow.start(IMAGE_OPERATION_WORKFLOW, {
            taskQueue: deps.taskQueue,
            workflowId: id,
            args: [op],
            workflowIdConflictPolicy: 'USE_EXISTING',
          });
          started++;
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      deps.log?.('registry push notification', { events: events.length, scansStarted: started });
      res.status(202).json({ scans: started });
    } catch (err) {
      next(err);
    }
  };
}
