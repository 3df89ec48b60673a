import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { credentialsFromAuth, KubeconfigError } from '../../infra/kube/pool-credentials.ts';
import type { AuditInput, AuditLog } from '../../common/audit.ts';
import { POOL_FAILURES, poolWorkflowId } from '../../common/pool-workflows.ts';
import type { NodeView, PoolOverview, PoolView, RegisterPool } from '../../common/pools.ts';
import type { CredentialCipher } from '../../store/credentials.ts';
import { poolCredentialsAad, type PoolRecord, type PoolStore } from '../../store/pools.ts';
import type { nodeListWorkflow, poolOverviewWorkflow, registerPoolWorkflow, setNodeSchedulableWorkflow } from '../../workflows/pools.ts';
import { ConflictError, HttpError, InputError, NotFoundError } from '../errors.ts';
import type { Caller } from './caller.ts';

export interface PoolServiceDeps {
  pools: PoolStore;
  temporal: Client;
  taskQueue: string;
  /** Seals credentials before they are stored; the API never opens them (only the reader tokens, in `pool-reads.ts`). */
  cipher: CredentialCipher;
  audit: AuditLog;
  /** Workflow execution timeouts (ms): the registration check, and reads/cordon. */
  timeouts?: { checkMs?: number; readMs?: number };
}

/** Where a request came from, for audit entries. */
export interface PoolRequestMeta {
  ip?: string;
}

/** The pool's cluster refused, failed or did not answer: the request was fine, the upstream was not. */
export class UpstreamError extends HttpError {
  constructor(status: 502 | 504, message: string) {
    super(status, status === 502 ? 'Bad Gateway' : 'Gateway Timeout', message);
  }
}

const view = (p: PoolRecord): PoolView => ({
  id: p._id,
  name: p.name,
  server: p.server,
  authType: p.authType,
  status: p.status,
  ...(p.reason ? { reason: p.reason } : {}),
  ...(p.version?.gitVersion ? { version: p.version } : {}),
  ...(p.checkedAt ? { checkedAt: new Date(p.checkedAt).toISOString() } : {}),
  ...(p.checkMs !== undefined ? { checkMs: p.checkMs } : {}),
  createdBy: p.createdBy,
  createdAt: new Date(p.createdAt).toISOString(),
  ...(p.reader ? { reader: { status: p.reader.status, ...(p.reader.reason ? { reason: p.reader.reason } : {}) } } : {}),
});

const sameServer = (a: string, b: string): boolean => {
  try {
    return new URL(a).href.replace(/\/+$/, '') === new URL(b).href.replace(/\/+$/, '');
  } catch {
    return false;
  }
};

const failureMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The one mapping of a failed pool workflow to an HTTP error: typed activity failures by type, a timeout
 * to 504, anything else (retries exhausted on network errors) to 502 naming the last error.
 */
function fromWorkflowFailure(err: unknown, what: string): never {
  if (!(err instanceof WorkflowFailedError)) throw err;
  const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  if (cause instanceof ApplicationFailure) {
    switch (cause.type) {
      case POOL_FAILURES.notFound:
        throw new NotFoundError('no such pool');
      case POOL_FAILURES.nodeNotFound:
        throw new NotFoundError(cause.message);
      case POOL_FAILURES.credentialsUnreadable:
        throw new HttpError(
          500,
          'Internal Server Error',
          `${what}: the stored credentials cannot be decrypted (credentials key differs between api and worker, or the record was altered)`,
        );
      default:
        // Typed failures of pool activities already name the pool and what failed; retried faults do not.
        throw new UpstreamError(502, cause.nonRetryable ? cause.message : `${what}: ${cause.message}`);
    }
  }
  if (cause instanceof TimeoutFailure || err.cause instanceof TimeoutFailure) throw new UpstreamError(504, `${what}: no answer in time`);
  throw new UpstreamError(502, `${what}: ${failureMessage(err.cause ?? err)}`);
}

/**
 * Resource pools: registration (credentials sealed here, checked by a workflow), overview, nodes, cordon.
 * These never talk to a pool's cluster from the API: every read or change here runs as a short Temporal
 * workflow whose activities load and decrypt the credentials in the worker. (Tenants' objects are read with
 * the pool's read-only identity instead: `pool-reads.ts`.) Routes have already checked permissions.
 */
export function poolService(deps: PoolServiceDeps) {
  const { pools, temporal, taskQueue, cipher, audit } = deps;
  const checkTimeoutMs = deps.timeouts?.checkMs ?? 60_000;
  const readTimeoutMs = deps.timeouts?.readMs ?? 30_000;
  const actor = (c: Caller) => ({ sub: c.sub, name: c.name });
  const rand = (): string => randomBytes(4).toString('hex');
  const record = (entry: AuditInput): Promise<unknown> => audit.append(entry);

  const existing = async (id: string): Promise<PoolRecord> => {
    const p = await pools.get(id);
    if (!p) throw new NotFoundError('no such pool');
    return p;
  };

  /** Runs one short pool workflow to completion, mapping its failure once. */
  const run = async <T>(what: string, start: () => Promise<T>): Promise<T> => {
    try {
      return await start();
    } catch (err) {
      return fromWorkflowFailure(err, what);
    }
  };

  /** Cordon or uncordon through the pool's credentials; audited either way. */
  const setSchedulable = async (caller: Caller, id: string, node: string, schedulable: boolean, meta: PoolRequestMeta): Promise<NodeView> => {
    await existing(id);
    const action = schedulable ? 'node.uncordon' : 'node.cordon';
    const target = `pool:${id}/node:${node}`;
    try {
      const result = await run(`${schedulable ? 'uncordon' : 'cordon'} ${node}`, () =>
        temporal.workflow.execute<typeof setNodeSchedulableWorkflow>('setNodeSchedulableWorkflow', {
          taskQueue,
          workflowId: poolWorkflowId(id, schedulable ? 'uncordon' : 'cordon', rand()),
          args: [id, node, schedulable],
          workflowExecutionTimeout: readTimeoutMs,
        }),
      );
      await record({ actor: actor(caller), action, target, outcome: 'success', ...meta });
      return result;
    } catch (err) {
      await record({ actor: actor(caller), action, target, outcome: 'failure', details: { reason: failureMessage(err) }, ...meta });
      throw err;
    }
  };

  return {
    async list(): Promise<PoolView[]> {
      return (await pools.list()).map(view);
    },

    async get(id: string): Promise<PoolView> {
      return view(await existing(id));
    },

    /**
     * Registers a pool: reduces a kubeconfig to its current context's embedded credentials, seals them
     * (AES-256-GCM, bound to the pool id), stores the pool in `checking`, then runs the registration
     * check and answers with its outcome. A check that does not finish leaves the pool `unreachable`
     * with the reason. Audited as `pool.register` (never with credentials).
     */
    async register(caller: Caller, body: RegisterPool, meta: PoolRequestMeta): Promise<PoolView> {
      let reduced: ReturnType<typeof credentialsFromAuth>;
      try {
        reduced = credentialsFromAuth(body.auth);
      } catch (err) {
        if (!(err instanceof KubeconfigError)) throw err;
        throw new InputError(`invalid request: auth.kubeconfig: ${err.message}`, [{ field: 'auth.kubeconfig', message: err.message }]);
      }
      if (reduced.server !== undefined && !sameServer(reduced.server, body.server)) {
        const message = `does not match the kubeconfig's current cluster (${reduced.server})`;
        throw new InputError(`invalid request: server: ${message}`, [{ field: 'server', message }]);
      }
      const details = { name: body.name, server: body.server, authType: body.auth.type };
      const sealed = cipher.seal(JSON.stringify(reduced.credentials), poolCredentialsAad(body.id));
      const inserted = await pools.insert({
        _id: body.id,
        name: body.name,
        server: body.server,
        authType: body.auth.type,
        credentials: sealed,
        createdBy: actor(caller),
      });
      if (!inserted) {
        await record({
          actor: actor(caller),
          action: 'pool.register',
          target: `pool:${body.id}`,
          outcome: 'failure',
          details: { ...details, reason: 'id taken' },
          ...meta,
        });
        throw new ConflictError(`pool ${body.id} already exists`);
      }
      let handle;
      try {
        handle = await temporal.workflow.start<typeof registerPoolWorkflow>('registerPoolWorkflow', {
          taskQueue,
          workflowId: poolWorkflowId(body.id, 'register', rand()),
          args: [body.id],
          workflowExecutionTimeout: checkTimeoutMs,
        });
      } catch (err) {
        // Nothing will ever check it: take the registration back so a retry starts clean.
        await pools.remove(body.id);
        throw err;
      }
      try {
        await handle.result();
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const reason = `the registration check did not complete: ${failureMessage(err.cause ?? err)}`;
        await pools.recordCheck(body.id, { status: 'unreachable', reason, checkMs: checkTimeoutMs, checkedAt: new Date() });
      }
      const registered = view(await existing(body.id));
      await record({
        actor: actor(caller),
        action: 'pool.register',
        target: `pool:${body.id}`,
        outcome: 'success',
        details: {
          ...details,
          status: registered.status,
          ...(registered.reason ? { reason: registered.reason } : {}),
          ...(registered.version ? { version: registered.version.gitVersion } : {}),
        },
        ...meta,
      });
      return registered;
    },

    async overview(id: string): Promise<PoolOverview> {
      const pool = view(await existing(id));
      const result = await run(`pool ${id} overview`, () =>
        temporal.workflow.execute<typeof poolOverviewWorkflow>('poolOverviewWorkflow', {
          taskQueue,
          workflowId: poolWorkflowId(id, 'overview', rand()),
          args: [id],
          workflowExecutionTimeout: readTimeoutMs,
        }),
      );
      return { pool, ...result };
    },

    async nodes(id: string): Promise<NodeView[]> {
      await existing(id);
      return run(`pool ${id} nodes`, () =>
        temporal.workflow.execute<typeof nodeListWorkflow>('nodeListWorkflow', {
          taskQueue,
          workflowId: poolWorkflowId(id, 'nodes', rand()),
          args: [id],
          workflowExecutionTimeout: readTimeoutMs,
        }),
      );
    },

    cordon: (caller: Caller, id: string, node: string, meta: PoolRequestMeta) => setSchedulable(caller, id, node, false, meta),
    uncordon: (caller: Caller, id: string, node: string, meta: PoolRequestMeta) => setSchedulable(caller, id, node, true, meta),

    /** Removes a pool no VDC lives in (409 naming them otherwise). Audited as `pool.delete`. */
    async remove(caller: Caller, id: string, meta: PoolRequestMeta): Promise<void> {
      const r = await pools.remove(id);
      if (!r.removed && r.reason === 'not-found') throw new NotFoundError('no such pool');
      const target = `pool:${id}`;
      if (!r.removed) {
        const reason = r.reason === 'in-use' ? `VDCs still use it: ${r.vdcs.join(', ')}` : 'a delete of this pool is in progress';
        await record({ actor: actor(caller), action: 'pool.delete', target, outcome: 'failure', details: { reason }, ...meta });
        throw new ConflictError(`pool ${id} cannot be deleted: ${reason}`);
      }
      await record({ actor: actor(caller), action: 'pool.delete', target, outcome: 'success', ...meta });
    },
  };
}
export type PoolService = ReturnType<typeof poolService>;
