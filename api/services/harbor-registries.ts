import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import type { AuditInput } from '../../common/audit.ts';
import {
  HARBOR_REGISTRY_FAILURES,
  harborRegistryWorkflowId,
  type BrowseHarborQuery,
  type ConnectHarborRegistry,
  type HarborBrowseResult,
  type HarborRegistryView,
} from '../../common/harbor-registries.ts';
import type { CredentialCipher } from '../../store/credentials.ts';
import { harborRegistrySecretAad, type HarborRegistryRecord, type HarborRegistryStore } from '../../store/harbor-registries.ts';
import type { browseHarborRegistryWorkflow, checkHarborRegistryWorkflow } from '../../workflows/harbor-registries.ts';
import { ConflictError, HttpError, InputError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';
import { UpstreamError } from './pools.ts';

export interface HarborRegistryServiceDeps {
  registries: HarborRegistryStore;
  temporal: Client;
  taskQueue: string;
  /** Seals the secret before it is stored; the API never opens it. */
  cipher: CredentialCipher;
  audit: { append(entry: AuditInput): Promise<unknown> };
  /** Workflow execution timeouts (ms) of the save check and of a browse. */
  timeouts?: { checkMs?: number; browseMs?: number };
}

const view = (r: HarborRegistryRecord): HarborRegistryView => ({
  id: r._id,
  name: r.name,
  url: r.url,
  username: r.username,
  status: 'connected',
  projectCount: r.projectCount ?? 0,
  checkedAt: new Date(r.checkedAt ?? r.createdAt).toISOString(),
  checkMs: r.checkMs ?? 0,
  createdBy: r.createdBy,
  createdAt: new Date(r.createdAt).toISOString(),
});

const failureMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The typed activity failure of a failed workflow, if any. */
function causeOf(err: WorkflowFailedError): unknown {
  return err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
}

/**
 * Third-party Harbor registries: connect (secret sealed here, checked by a short workflow in the worker),
 * list, browse (a short workflow per level) and delete. The API never calls the registry: each read runs as a
 * workflow whose activity opens the sealed secret in the worker; workflow inputs carry the registry id only.
 * Routes have already checked `registry:manage`.
 */
export function harborRegistryService(deps: HarborRegistryServiceDeps) {
  const { registries, temporal, taskQueue, cipher } = deps;
  const checkMs = deps.timeouts?.checkMs ?? 60_000;
  const browseMs = deps.timeouts?.browseMs ?? 30_000;
  const rand = (): string => randomBytes(4).toString('hex');
  const actor = (c: Caller) => ({ sub: c.sub, name: c.name });

  const existing = async (id: string): Promise<HarborRegistryRecord> => {
    const r = await registries.get(id);
    if (!r || r.status !== 'connected') throw new NotFoundError('no such registry');
    return r;
  };

  /** Why a save check failed, as the field of the request that has to change (400), or an upstream error. */
  function checkFailure(err: unknown): HttpError {
    if (!(err instanceof WorkflowFailedError))
      return err instanceof HttpError ? err : new UpstreamError(502, `the registry check failed: ${failureMessage(err)}`);
    const cause = causeOf(err);
    if (cause instanceof ApplicationFailure && cause.type === HARBOR_REGISTRY_FAILURES.credentialsRefused) {
      return new InputError(`invalid request: password: ${cause.message}`, [{ field: 'password', message: cause.message }]);
    }
    if (cause instanceof ApplicationFailure && cause.type === HARBOR_REGISTRY_FAILURES.notHarbor) {
      return new InputError(`invalid request: url: ${cause.message}`, [{ field: 'url', message: cause.message }]);
    }
    if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) {
      return new InputError('invalid request: url: the registry did not answer in time', [{ field: 'url', message: 'the registry did not answer in time' }]);
    }
    const message = `the registry could not be reached: ${failureMessage(cause ?? err)}`;
    return new InputError(`invalid request: url: ${message}`, [{ field: 'url', message }]);
  }

  return {
    async list(): Promise<HarborRegistryView[]> {
      return (await registries.list()).map(view);
    },

    async get(id: string): Promise<HarborRegistryView> {
      return view(await existing(id));
    },

    /**
     * Connects a registry: seals the secret (AES-256-GCM, bound to the registry id), stores the record in
     * `checking`, runs the check workflow (projects listed with the stored credentials) and answers with the
     * connected registry. A failed check removes the record again and answers 400 naming the field to fix
     * (`password` for refused credentials, `url` for an unreachable or non-Harbor URL). Audited without the secret.
     */
    async connect(caller: Caller, body: ConnectHarborRegistry, meta: { ip?: string }): Promise<HarborRegistryView> {
      const url = body.url.replace(/\/+$/, '');
      const details = { name: body.name, url, username: body.username };
      const target = `harbor-registry:${body.id}`;
      const inserted = await registries.insert({
        _id: body.id,
        name: body.name,
        url,
        username: body.username,
        secret: cipher.seal(body.password, harborRegistrySecretAad(body.id)),
        createdBy: actor(caller),
      });
      if (!inserted) {
        await deps.audit.append({
          actor: actor(caller),
          action: 'harbor-registry.connect',
          target,
          outcome: 'failure',
          details: { ...details, reason: 'id taken' },
          ...meta,
        });
        throw new ConflictError(`registry ${body.id} already exists`);
      }
      try {
        await temporal.workflow.execute<typeof checkHarborRegistryWorkflow>('checkHarborRegistryWorkflow', {
          taskQueue,
          workflowId: harborRegistryWorkflowId(body.id, 'check', rand()),
          args: [body.id],
          workflowExecutionTimeout: checkMs,
        });
      } catch (err) {
        await registries.remove(body.id);
        const mapped = checkFailure(err);
        await deps.audit.append({
          actor: actor(caller),
          action: 'harbor-registry.connect',
          target,
          outcome: 'failure',
          details: { ...details, reason: mapped.message },
          ...meta,
        });
        throw mapped;
      }
      const connected = view(await existing(body.id));
      await deps.audit.append({
        actor: actor(caller),
        action: 'harbor-registry.connect',
        target,
        outcome: 'success',
        details: { ...details, projectCount: connected.projectCount },
        ...meta,
      });
      return connected;
    },

    /** One level of the registry, read by a workflow through the stored credentials. */
    async browse(id: string, query: BrowseHarborQuery): Promise<HarborBrowseResult> {
      await existing(id);
      if (query.project !== undefined && query.repository !== undefined) {
        throw new InputError('invalid request: give project or repository, not both', [{ field: 'repository', message: 'not with project' }]);
      }
      try {
        return await temporal.workflow.execute<typeof browseHarborRegistryWorkflow>('browseHarborRegistryWorkflow', {
          taskQueue,
          workflowId: harborRegistryWorkflowId(id, 'browse', rand()),
          args: [id, query],
          workflowExecutionTimeout: browseMs,
        });
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const cause = causeOf(err);
        if (cause instanceof ApplicationFailure) {
          if (cause.type === HARBOR_REGISTRY_FAILURES.browseNotFound || cause.type === HARBOR_REGISTRY_FAILURES.notFound)
            throw new NotFoundError(cause.message);
          if (cause.type === HARBOR_REGISTRY_FAILURES.credentialsUnreadable)
            throw new HttpError(
              500,
              'Internal Server Error',
              `registry ${id}: the stored secret cannot be decrypted (credentials key differs between api and worker, or the record was altered)`,
            );
          throw new UpstreamError(502, cause.message);
        }
        if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) throw new UpstreamError(504, `registry ${id}: no answer in time`);
        throw new UpstreamError(502, `registry ${id}: ${failureMessage(cause ?? err)}`);
      }
    },

    /**
     * Forgets a registry (and its sealed secret); nothing changes on the registry itself. An unknown id is
     * a 404 that changes nothing and, like the other deletes, writes no audit entry.
     */
    async remove(caller: Caller, id: string, meta: { ip?: string }): Promise<void> {
      if (!(await registries.remove(id))) throw new NotFoundError('no such registry');
      await deps.audit.append({ actor: actor(caller), action: 'harbor-registry.delete', target: `harbor-registry:${id}`, outcome: 'success', ...meta });
    },
  };
}
export type HarborRegistryService = ReturnType<typeof harborRegistryService>;
